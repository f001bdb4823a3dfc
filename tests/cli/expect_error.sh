# Sourced by the CLI tests. Gives them a scratch folder ($tmp, removed on
# exit), `fail MESSAGE`, and `expect_error DESCRIPTION FRAGMENT COMMAND...`:
# COMMAND must exit 1 with exactly one line on stderr, starting "osprey: "
# and containing FRAGMENT. `expect_ok DESCRIPTION COMMAND...`: COMMAND must
# exit 0. Both leave its output in $tmp/out and $tmp/err. `report` prints
# the counts and fails if any check did.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
passed=0

fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

expect_error() {
  local what=$1 fragment=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne 1 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^osprey: .*$fragment" "$tmp/err"; then
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
