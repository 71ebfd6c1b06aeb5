# Sourced by tests/cli/check_*.sh: check(), which records a failure instead of stopping, and a
# temporary folder $tmp removed on exit. A script ends with `exit $failed`.
failed=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failed=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
