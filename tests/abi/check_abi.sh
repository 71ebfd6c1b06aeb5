#!/usr/bin/env bash
# check_abi.sh OLD_INCLUDE_DIR NEW_INCLUDE_DIR PROBE_C [WORK_DIR]
#
# Is the pcv/plugin.h under NEW_INCLUDE_DIR ABI-compatible with the one under OLD_INCLUDE_DIR?
# Builds the probe library against each, then asks three tools, because none suffices alone:
#   abidiff        symbol/type diff; bit 8 = incompatible, but it reports an append (fine) and an
#                  insertion (break) both as bit 4, so bit 4 alone does not fail the gate;
#   abi-compliance-checker   tells an append ("Low" severity) from an insertion: exit 1;
#   check_layout.py          pcv's own append-only rule over abidw's XML.
# Exit: 0 compatible, 1 ABI break, 2 tool error (a tool missing or failing; this wins over 1,
# since the verdict is then incomplete). Outputs and reports stay in WORK_DIR (default: mktemp).
set -euo pipefail

if [[ $# -lt 3 || $# -gt 4 ]]; then
  echo "usage: $0 OLD_INCLUDE_DIR NEW_INCLUDE_DIR PROBE_C [WORK_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# Tools from PATH unless given (CMake passes the ones it found).
abidw=${ABIDW:-abidw} abidiff=${ABIDIFF:-abidiff} abi_dumper=${ABI_DUMPER:-abi-dumper}
acc=${ABI_COMPLIANCE_CHECKER:-abi-compliance-checker} python=${PYTHON:-/usr/bin/python3}
for tool in gcc "$abidw" "$abidiff" "$abi_dumper" "$acc" "$python"; do
  if ! command -v "$tool" >/dev/null; then
    echo "check_abi: TOOL ERROR: '$tool' not found (run scripts/setup-deps)" >&2
    exit 2
  fi
done
for dir in "$1" "$2"; do
  [[ -f $dir/pcv/plugin.h ]] || { echo "check_abi: no pcv/plugin.h under '$dir'" >&2; exit 2; }
done
[[ -f $3 ]] || { echo "check_abi: no probe source '$3'" >&2; exit 2; }

# Absolute paths: the tools run inside WORK_DIR, because acc writes logs/ into the current dir.
old_inc=$(cd "$1" && pwd)
new_inc=$(cd "$2" && pwd)
probe=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
work=${4:-$(mktemp -d "${TMPDIR:-/tmp}/pcv-abi.XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
cd "$work"

errors=0 breaks=0
tool_error() { echo "check_abi: TOOL ERROR: $*"; errors=$((errors + 1)); }

# Build and dump both sides. Default visibility and -g: every probe function and type is in DWARF.
for side in old new; do
  inc=$old_inc
  [[ $side == new ]] && inc=$new_inc
  if ! gcc -std=c99 -g -Og -fPIC -shared -I"$inc" "$probe" -o "$side.so" -Wl,--no-undefined \
      >"gcc-$side.txt" 2>&1; then
    cat "gcc-$side.txt"
    # The probe names only public types and the entry point: if it builds against the old header
    # but not the new one, the new header removed or renamed one of them (or does not compile).
    if [[ $side == new ]]; then
      echo "check_abi: VERDICT: ABI BREAK (1): the probe no longer compiles against $inc"
      exit 1
    fi
    echo "check_abi: TOOL ERROR: building the probe against $inc failed"
    exit 2
  fi
  "$abidw" --headers-dir "$inc" --out-file "$side.abi" "$side.so" >"abidw-$side.txt" 2>&1 ||
    tool_error "abidw on $side.so failed (exit $?, see $work/abidw-$side.txt)"
  "$abi_dumper" "$side.so" -o "$side.dump" -lver "$side" -public-headers "$inc" \
      >"abi-dumper-$side.txt" 2>&1 ||
    tool_error "abi-dumper on $side.so failed (exit $?, see $work/abi-dumper-$side.txt)"
done
[[ $errors -eq 0 ]] || { echo "check_abi: VERDICT: tool error (2)"; exit 2; }

# abidiff: exit bits 1 error, 2 usage, 4 ABI change, 8 incompatible change.
rc=0
"$abidiff" old.abi new.abi >abidiff.txt 2>&1 || rc=$?
if ((rc & 3)); then
  tool_error "abidiff failed (exit $rc, see $work/abidiff.txt)"
elif ((rc & 8)); then
  echo "abidiff: exit $rc: BREAK (incompatible change; see $work/abidiff.txt)"
  breaks=$((breaks + 1))
elif ((rc & 4)); then
  echo "abidiff: exit $rc: ok (changes, not incompatible by themselves; see $work/abidiff.txt)"
else
  echo "abidiff: exit $rc: ok (no change)"
fi

# abi-compliance-checker: 0 compatible, 1 incompatible, other codes its own errors.
rc=0
"$acc" -l pcv -old old.dump -new new.dump -report-path "$work/acc.html" >acc.txt 2>&1 || rc=$?
summary=$(grep -E '^(Binary|Source) compatibility' acc.txt | tr '\n' ' ' || true)
summary=${summary% }
[[ -n $summary ]] || rc="$rc, no verdict printed"  # then 1 is a crash, not "incompatible"
case $rc in
  0) echo "abi-compliance-checker: exit 0: ok ($summary)" ;;
  1) echo "abi-compliance-checker: exit 1: BREAK ($summary; report $work/acc.html)"
     breaks=$((breaks + 1)) ;;
  *) tool_error "abi-compliance-checker failed (exit $rc, see $work/acc.txt)" ;;
esac

# check_layout.py: 0 append-only, 1 break (it prints which struct/member), 2 its own error.
rc=0
"$python" "$here/check_layout.py" old.abi new.abi pcv_ >check_layout.txt 2>&1 || rc=$?
sed 's/^/  /' check_layout.txt
case $rc in
  0) echo "check_layout: exit 0: ok (append-only)" ;;
  1) echo "check_layout: exit 1: BREAK (a field moved, vanished, or a struct shrank)"
     breaks=$((breaks + 1)) ;;
  *) tool_error "check_layout.py failed (exit $rc)" ;;
esac

if [[ $errors -gt 0 ]]; then
  echo "check_abi: VERDICT: tool error (2); outputs in $work"
  exit 2
elif [[ $breaks -gt 0 ]]; then
  echo "check_abi: VERDICT: ABI BREAK (1): $2 is not compatible with $1; outputs in $work"
  exit 1
fi
echo "check_abi: VERDICT: compatible (0); outputs in $work"
