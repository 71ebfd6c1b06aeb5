#!/usr/bin/env bash
# run.sh BUILD_DIR WORK_DIR NM
# Installs pcv from BUILD_DIR into WORK_DIR/prefix, builds ./plugin against it with
# find_package(pcv), and checks that the installed pcv loads and runs the new plugin.
set -euo pipefail
build=$1 work=$2 nm=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
step() { echo "== $*"; }

step "install pcv to $work/prefix"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"

step "configure and build the plugin project against it"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S "$here/plugin" -B "$work/build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
plugin=$work/build/mylib.so

step "the plugin exports only pcv_plugin_entry"
symbols=$("$nm" -D --defined-only "$plugin" | awk '{print $NF}')
[[ $symbols == pcv_plugin_entry ]] || { echo "exports: $symbols"; exit 1; }

step "the installed pcv lists it, and still finds its own plugins in the install tree"
PCV_PLUGIN_PATH=$plugin "$work/prefix/bin/pcv" plugins | tee "$work/plugins.txt"
grep -q "^mylib  *1.0.0  *1\.[0-9]* " "$work/plugins.txt"
grep -q "^nn " "$work/plugins.txt"
grep -q "$work/prefix/" "$work/plugins.txt"

step "a host program built against the installed libpcv runs mylib.clamp"
out=$("$work/build/run_clamp" "$plugin")
echo "$out"
[[ $out == "-1 -0.5 0.25 1 " ]]
echo "out-of-tree SDK build: OK"
