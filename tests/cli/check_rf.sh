#!/usr/bin/env bash
# check_rf.sh PCV - pcv rf: the table, its JSON, the start conventions, errors and exit codes.
set -uo pipefail
pcv=$1
source "$(dirname "$0")/common.sh"
json_ok() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); L=d['layers']; $2" ; }

voxnet="conv k=5 s=2; conv k=3; pool k=2 s=2"

"$pcv" rf --layers "$voxnet" --input-size 32 --json > "$tmp/voxnet.json"; rc=$?
check "rf --json exits 0" test $rc -eq 0
check "rf --json: VoxNet sizes, jumps, RFs, starts (index convention)" json_ok "$tmp/voxnet.json" \
  "assert d['input_size']==[32] and d['start_convention']=='index' and len(L)==3; \
   assert [l['size'] for l in L]==[[14],[12],[6]] and [l['jump'] for l in L]==[[2],[2],[4]]; \
   assert [l['rf'] for l in L]==[[5],[9],[11]] and [l['start'] for l in L]==[[2],[4],[5]]; \
   assert L[0]['layer']=='conv k=5 s=2' and L[2]['layer']=='pool k=2'"

"$pcv" rf --layers "$voxnet" --input-size 32,32,32 --pixel-centre --json > "$tmp/centre.json"
check "rf --pixel-centre: starts move by half a pixel, per dimension" json_ok "$tmp/centre.json" \
  "assert d['input_size']==[32,32,32] and d['start_convention']=='pixel-centre'; \
   assert [l['start'] for l in L]==[[2.5]*3,[4.5]*3,[5.5]*3] and L[2]['rf']==[11,11,11]"

"$pcv" rf --layers "conv k=3 s=2 p=1; deconv k=3 s=2 p=1 op=1; upsample f=2 mode=linear" --input-size 8 --json \
  > "$tmp/up.json"
check "rf --json: transposed conv and upsample, fractional jumps, phase flag" json_ok "$tmp/up.json" \
  "assert [l['size'] for l in L]==[[4],[8],[16]] and [l['jump'] for l in L]==[[2],[1],[0.5]]; \
   assert [l['rf'] for l in L]==[[3],[5],[6]] and [l['start'] for l in L]==[[0],[0],[-0.25]]; \
   assert 'alternates' in L[1]['flags'][0] and L[2]['flags']==[]"

"$pcv" rf --layers "$voxnet" --input-size 32 > "$tmp/table"; rc=$?
check "rf table exits 0" test $rc -eq 0
check "rf table has a header" grep -q "^#  *LAYER  *SIZE  *JUMP  *RF  *START$" "$tmp/table"
check "rf table has the input row" grep -q "^0  *input  *32  *1  *1  *0$" "$tmp/table"
check "rf table: pool row" grep -q "^3  *pool k=2  *6  *4  *11  *5$" "$tmp/table"

"$pcv" rf --layers "conv k=3; conv k=3; conv k=5 s=2" --input-size 8 > "$tmp/out" 2> "$tmp/err"; rc=$?
check "empty output exits non-zero" test $rc -ne 0
check "empty output: one line on stderr" test "$(wc -l < "$tmp/err")" -eq 1
check "empty output names the layer and the input" \
  grep -qx "pcv: error: layer 3 (conv k=5 s=2): output would be empty for input 4" "$tmp/err"

"$pcv" rf --layers "conv k=3; conv q=2" --input-size 8 > "$tmp/out" 2> "$tmp/err"; rc=$?
check "parse error exits non-zero" test $rc -ne 0
check "parse error names the layer and the token" grep -q "^pcv: error: layer 2 .*bad token 'q=2'" "$tmp/err"

"$pcv" rf --layers "$voxnet" > "$tmp/out" 2> "$tmp/err"; rc=$?
check "--layers without --input-size is an error" test $rc -ne 0
check "it says what is missing" grep -q "^pcv: error: --layers needs --input-size" "$tmp/err"
"$pcv" rf --layers "$voxnet" --input-size 0 > "$tmp/out" 2> "$tmp/err"; rc=$?
check "--input-size 0 is an error" test $rc -ne 0
"$pcv" rf > "$tmp/out" 2> "$tmp/err"; rc=$?
check "neither a model nor --layers is an error" test $rc -ne 0

# A model file, written without NumPy: conv3d + leaky_relu + max_pool3d on 32^3, then a classifier.
write_model() {  # write_model PATH GRAPH_JSON NAME:SHAPE... (zero float32 tensors)
  /usr/bin/python3 - "$@" <<'PY'
import json, struct, sys
path, graph, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
header = {"__metadata__": {"pcv.format": "1", "pcv.graph": graph, "pcv.labels": "[]", "pcv.preprocessing": "{}"}}
offset = 0
for spec in specs:
    name, shape = spec.split(":")
    shape = [int(x) for x in shape.split(",")]
    n = 4
    for x in shape: n *= x
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + n]}
    offset += n
text = json.dumps(header).encode()
text += b" " * ((-(8 + len(text))) % 64)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + bytes(offset))
PY
}
write_model "$tmp/voxnet.safetensors" '{"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 1, 32, 32, 32]}],
  "outputs": ["y"], "nodes": [
  {"name": "conv1", "op": "nn.conv3d", "inputs": ["x", "w1"], "outputs": ["a"], "attrs": {"stride": [2]}},
  {"name": "act1", "op": "nn.leaky_relu", "inputs": ["a"], "outputs": ["b"]},
  {"name": "conv2", "op": "nn.conv3d", "inputs": ["b", "w2"], "outputs": ["c"]},
  {"name": "pool2", "op": "nn.max_pool3d", "inputs": ["c"], "outputs": ["d"], "attrs": {"kernel_size": [2]}},
  {"name": "flat", "op": "nn.flatten", "inputs": ["d"], "outputs": ["e"]},
  {"name": "fc", "op": "nn.linear", "inputs": ["e", "wf"], "outputs": ["y"]}]}' \
  w1:2,1,5,5,5 w2:2,2,3,3,3 wf:3,432
"$pcv" rf "$tmp/voxnet.safetensors" --json > "$tmp/model.json"; rc=$?
check "rf MODEL --json exits 0" test $rc -eq 0
check "rf MODEL: the graph gives the layer list's numbers" json_ok "$tmp/model.json" \
  "assert d['input_size']==[32,32,32] and [l['name'] for l in L]==['conv1','conv2','pool2']; \
   assert [l['rf'] for l in L]==[[5]*3,[9]*3,[11]*3] and [l['start'] for l in L]==[[2]*3,[4]*3,[5]*3]; \
   assert L[0]['op']=='nn.conv3d' and 'nn.flatten' in d['notes'][0]"
"$pcv" rf "$tmp/voxnet.safetensors" --input-size 20 > "$tmp/model.table"; rc=$?
check "rf MODEL table exits 0" test $rc -eq 0
check "rf MODEL table names nodes and ops" grep -q "^3  *pool2  *pool k=2 (nn.max_pool3d)  *3  *4  *11  *5$" "$tmp/model.table"

write_model "$tmp/mlp.safetensors" '{"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2]}],
  "outputs": ["y"], "nodes": [{"name": "fc", "op": "nn.linear", "inputs": ["x", "w"], "outputs": ["y"]}]}' w:3,2
"$pcv" rf "$tmp/mlp.safetensors" > "$tmp/mlp" 2> "$tmp/err"; rc=$?
check "a model without spatial layers is not an error" test $rc -eq 0
check "it says there are no spatial layers" grep -q "no spatial layers" "$tmp/mlp"

"$pcv" rf --help > "$tmp/help"; rc=$?
check "rf --help" test $rc -eq 0
check "rf --help explains the columns" grep -q "JUMP   input pixels between adjacent output features" "$tmp/help"
check "rf --help explains the start conventions" grep -q "pixel-centre" "$tmp/help"

[[ $failed == 0 ]] && echo "CLI rf: OK"
exit $failed
