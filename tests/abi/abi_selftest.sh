#!/usr/bin/env bash
# abi_selftest.sh OLD_INCLUDE_DIR PROBE_C
#
# Proves that check_abi.sh tells a break from a compatible change, so a passing abi.compat_v1
# means something. From the baseline header it derives two variants of pcv_op_desc:
#   mid-insert: a uint64_t after `name` (moves every later field)  -> must be a break (1)
#   append:     a uint64_t before the closing brace (minor bump)   -> must be compatible (0)
# and also checks baseline -> baseline (0).
# Exit 0 if all three match, 1 otherwise, 2 on setup errors.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 OLD_INCLUDE_DIR PROBE_C" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
base=$(cd "$1" && pwd)
probe=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcv-abi-selftest.XXXXXX")
keep=
trap '[[ -n $keep ]] || rm -rf "$tmp"' EXIT  # kept when a case fails, for its reports

# make_variant NAME AWK_ACTION: copies the baseline header, editing only inside pcv_op_desc.
make_variant() {
  mkdir -p "$tmp/$1/pcv"
  awk "/^typedef struct pcv_op_desc \\{/ { in_desc = 1 }
       in_desc && /^} pcv_op_desc;/ { in_desc = 0 }
       $2
       { print }" "$base/pcv/plugin.h" >"$tmp/$1/pcv/plugin.h"
  if cmp -s "$base/pcv/plugin.h" "$tmp/$1/pcv/plugin.h"; then
    echo "abi_selftest: could not derive the '$1' variant: pcv_op_desc no longer looks as expected"
    exit 2
  fi
}
# The inserted line is printed after `name` (mid) or before the closing brace (append).
make_variant mid \
  'in_desc && /^  const char\* name;/ { print; print "  uint64_t selftest_mid;"; next }'
make_variant append '/^} pcv_op_desc;/ { print "  uint64_t selftest_appended;" }'

failures=0
# expect NAME NEW_INCLUDE_DIR EXPECTED_EXIT
expect() {
  echo "=== abi_selftest: $1 (expect exit $3)"
  local rc=0
  "$here/check_abi.sh" "$base" "$2" "$probe" "$tmp/work-$1" || rc=$?
  if [[ $rc -eq $3 ]]; then
    echo "=== abi_selftest: $1: exit $rc as expected"
  else
    echo "=== abi_selftest: $1: FAILED: exit $rc, expected $3"
    failures=$((failures + 1))
  fi
}
expect baseline-to-baseline "$base" 0
expect mid-insert "$tmp/mid" 1
expect append "$tmp/append" 0

if [[ $failures -gt 0 ]]; then
  keep=1
  echo "abi_selftest: $failures of 3 cases FAILED; outputs kept in $tmp"
  exit 1
fi
echo "abi_selftest: all 3 cases as expected"
