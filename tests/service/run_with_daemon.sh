#!/usr/bin/env bash
# Starts a private ospreyd on a temporary socket, runs a command against it,
# stops the daemon. usage: run_with_daemon.sh OSPREYD COMMAND [ARGS...]
# The command sees OSPREY_SOCKET and OSPREY_TEST_TMP (a scratch directory).
# Exit code: the command's (77 = skipped); 1 if ospreyd died or failed to stop.
set -u
ospreyd=$1
shift
tmp=$(mktemp -d /tmp/osprey-svc-XXXXXX)
export OSPREY_SOCKET=$tmp/osprey.sock OSPREY_TEST_TMP=$tmp
"$ospreyd" --socket "$OSPREY_SOCKET" 2>"$tmp/ospreyd.log" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 200); do
  [ -S "$OSPREY_SOCKET" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ ! -S "$OSPREY_SOCKET" ]; then
  echo "ospreyd did not start:"; cat "$tmp/ospreyd.log"
  exit 1
fi
"$@"
rc=$?
if ! kill -0 "$pid" 2>/dev/null; then
  echo "ospreyd died while the command ran:"; cat "$tmp/ospreyd.log"
  exit 1
fi
kill -TERM "$pid"
stopped=1
for _ in $(seq 200); do
  kill -0 "$pid" 2>/dev/null || { stopped=0; break; }
  sleep 0.05
done
wait "$pid" 2>/dev/null
daemon_rc=$?
if [ $stopped -ne 0 ] || [ $daemon_rc -ne 0 ]; then
  echo "ospreyd did not stop cleanly (exit $daemon_rc):"; cat "$tmp/ospreyd.log"
  exit 1
fi
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
  echo "--- ospreyd log ---"; cat "$tmp/ospreyd.log"
fi
exit $rc
