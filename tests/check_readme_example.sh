#!/usr/bin/env bash
# check_readme_example.sh README.md clamp.cpp
# The README's "write a plugin" example must be the file the out-of-tree test compiles.
set -euo pipefail
readme=$1 source=$2
# The first ```cpp block after the line naming the file.
block=$(awk -v name="$(basename "$source")" '
  index($0, "<!-- example: " name) { found = 1; next }
  found && /^```cpp/ { inside = 1; next }
  inside && /^```/ { exit }
  inside { print }' "$readme")
if [[ "$block" != "$(cat "$source")" ]]; then
  echo "README.md's plugin example differs from $source:"
  diff <(echo "$block") "$source" || true
  exit 1
fi
echo "README example matches $source ($(wc -l < "$source") lines)"
