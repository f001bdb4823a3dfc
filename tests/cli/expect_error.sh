# Sourced by the CLI tests. Gives them a scratch folder ($tmp, removed on
# exit), `fail MESSAGE`, and `expect_error DESCRIPTION FRAGMENT COMMAND...`:
# COMMAND must exit 1 with exactly one line on stderr, starting "osprey: "
# and containing FRAGMENT (`expect_usage_error`: the same, exit 2, for a bad
# option). `expect_ok DESCRIPTION COMMAND...`: COMMAND must
# exit 0. Both leave its output in $tmp/out and $tmp/err. `report` prints
# the counts and fails if any check did. `noise SEED COUNT` prints COUNT
# bytes of noise from a fixed seed, so a failure on them repeats.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0

fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

expect_error() {
  expect_exit 1 "$@"
}

# The same for a usage error (a bad option or argument): exit 2.
expect_usage_error() {
  expect_exit 2 "$@"
}

expect_exit() {
  local code=$1 what=$2 fragment=$3
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^osprey: .*$fragment" "$tmp/err"; then
    fail "$what: exit $rc, stderr: $(cat "$tmp/err")"
  else
    echo "ok   $what: $(cat "$tmp/err")"
    passed=$((passed + 1))
  fi
}

expect_ok() {
  local what=$1
  shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then
    echo "ok   $what"
    passed=$((passed + 1))
  else
    fail "$what: exit $?, stderr: $(cat "$tmp/err")"
  fi
}

report() {
  echo "$passed checks passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# Park-Miller's generator, one byte of each state.
noise() {
  awk -v seed="$1" -v count="$2" 'BEGIN {
    x = seed
    for (i = 0; i < count; i++) { x = (x * 16807) % 2147483647; printf "%02X", int(x / 65536) % 256 }
  }' | basenc --base16 -d
}
