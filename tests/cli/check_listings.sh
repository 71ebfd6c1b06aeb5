#!/usr/bin/env bash
# check_listings.sh PCV ZOO_DIR - the CLI's listings, its JSON, its errors and exit codes.
set -uo pipefail
pcv=$1 zoo=$2
source "$(dirname "$0")/common.sh"
json_ok() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); $2" ; }

"$pcv" --version > "$tmp/version"
check "--version names the ABI" grep -qx "pcv [0-9.]* (plugin ABI 1.1)" "$tmp/version"

"$pcv" plugins > "$tmp/plugins" 2> "$tmp/plugins.err"
check "plugins lists nn" grep -q "^nn  *[0-9.]*  *1.1  *[0-9]* " "$tmp/plugins"
check "plugins lists example_c" grep -q "^example_c " "$tmp/plugins"
check "plugins has a header" grep -q "^PLUGIN  *VERSION  *ABI  *OPS  *CAPS  *PATH" "$tmp/plugins"
check "plugins warns about nothing" test ! -s "$tmp/plugins.err"

"$pcv" plugins --json > "$tmp/plugins.json"
check "plugins --json" json_ok "$tmp/plugins.json" \
  "p={x['name']:x for x in d['plugins']}; assert p['nn']['abi']=='1.1' and 'nn.relu' in p['nn']['ops'] and d['failures']==[]"

"$pcv" ops nn > "$tmp/ops"
check "ops nn shows relu and add" grep -q "^nn.add  v1  \[cpu, backward, thread-safe\]" "$tmp/ops"
check "ops nn shows only nn" test "$(grep -c '^[a-z_]*\.[a-z_0-9]*  v' "$tmp/ops")" -eq "$(grep -c '^nn\.' "$tmp/ops")"

"$pcv" ops --json > "$tmp/ops.json"
check "ops --json has schemas and defaults" json_ok "$tmp/ops.json" \
  "o={x['name']:x for x in d['ops']}; a=o['example_c.scale']['attributes'][0]; assert a['name']=='alpha' and a['default']==1.0 and a['required'] is False and o['nn.add']['inputs'][1]['name']=='b'"

"$pcv" ops nosuch > "$tmp/out" 2> "$tmp/err"; rc=$?
check "unknown plugin exits non-zero" test $rc -ne 0
check "unknown plugin: one line on stderr" test "$(wc -l < "$tmp/err")" -eq 1
check "unknown plugin names it" grep -q "^pcv: error: no plugin named 'nosuch' is loaded (loaded: example_c, face, losses, nn, pointconv, upsample)" "$tmp/err"

"$pcv" --plugin-path "$zoo" plugins > "$tmp/zoo" 2> "$tmp/zoo.err"; rc=$?
check "bad plugins do not stop the listing" test $rc -eq 0
check "good zoo plugin listed" grep -q "^zoo_newer_minor  *1.3  *1\.[0-9]* " "$tmp/zoo"
check "one warning per bad plugin" test "$(grep -c '^pcv: warning: cannot load plugin ' "$tmp/zoo.err")" -eq 7
check "warning names file and reason" grep -q "zoo_wrong_major.so: the plugin was built for pcv ABI 2.4" "$tmp/zoo.err"

"$pcv" > /dev/null 2> "$tmp/err"; rc=$?
check "no subcommand is an error" test $rc -ne 0
"$pcv" ops --help > "$tmp/help"; rc=$?
check "ops --help" test $rc -eq 0
check "ops --help explains --json" grep -q -- "--json" "$tmp/help"

[[ $failed == 0 ]] && echo "CLI listings: OK"
exit $failed
