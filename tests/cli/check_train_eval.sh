#!/usr/bin/env bash
# check_train_eval.sh PCV REPO - pcv train, eval, classify and op end to end on the bundled demo
# shapes: outputs, JSON/CSV forms, exit codes, and errors that name the bad file.
set -uo pipefail
pcv=$1 repo=$2
source "$(dirname "$0")/common.sh"
py() { /usr/bin/python3 -c "$1"; }
export PCV_NUM_THREADS=2

"$pcv" train "$repo/data/demo/train.json" --epochs 2 --output-dir "$tmp/run" > "$tmp/train.out" 2> "$tmp/train.err"
check "train exits 0" test $? -eq 0
for f in model.safetensors checkpoint.safetensors log.csv curves.png confusion.png; do
  check "train wrote $f" test -s "$tmp/run/$f"
done
check "log.csv has a header and 2 epochs" test "$(wc -l < "$tmp/run/log.csv")" -eq 3
check "train reports each epoch" grep -q "^epoch 2: lr" "$tmp/train.err"

"$pcv" eval "$tmp/run/model.safetensors" "$repo/data/demo/shapes" --json > "$tmp/eval.json" 2> /dev/null
check "eval --json exits 0" test $? -eq 0
check "eval --json has accuracy, per_class and n" py "
import json; d = json.load(open('$tmp/eval.json'))
assert 0 <= d['accuracy'] <= 1 and d['n'] == 72 and sorted(d['per_class']) == ['cube', 'cylinder', 'disk', 'sphere']"
printf '%s disk\n%s cube\n' "$repo/data/demo/shapes/disk/disk_001.xyz" "$repo/data/demo/shapes/cube/cube_001.xyz" \
  > "$tmp/held_out.txt"
"$pcv" eval "$tmp/run/model.safetensors" "$tmp/held_out.txt" --json > "$tmp/eval_list.json" 2> /dev/null
check "eval takes a list file of 'path label' lines" py "
import json; d = json.load(open('$tmp/eval_list.json')); assert d['n'] == 2, d"
"$pcv" eval "$tmp/run/model.safetensors" "$repo/data/demo/shapes" > "$tmp/eval.txt" 2> /dev/null
check "eval prints overall accuracy and the confusion matrix" \
  bash -c "grep -q '^overall accuracy' '$tmp/eval.txt' && grep -q '^confusion matrix' '$tmp/eval.txt'"

cloud=$repo/data/demo/shapes/disk/disk_000.xyz
"$pcv" classify "$tmp/run/model.safetensors" "$cloud" "$cloud" --json -k 2 > "$tmp/cls.json"
check "classify --json gives top-k with probabilities" py "
import json; d = json.load(open('$tmp/cls.json'))
assert len(d) == 2 and len(d[0]['top']) == 2 and d[0]['top'][0]['probability'] >= d[0]['top'][1]['probability']"
"$pcv" classify "$tmp/run/model.safetensors" "$cloud" --csv > "$tmp/cls.csv"
check "classify --csv has a header and k rows" test "$(head -1 "$tmp/cls.csv")" = "file,rank,label,probability"
printf 'not a cloud\n' > "$tmp/bad.xyz"
"$pcv" classify "$tmp/run/model.safetensors" "$tmp/bad.xyz" "$cloud" > "$tmp/cls2.txt" 2> "$tmp/cls2.err"
check "a bad file makes classify exit 1" test $? -eq 1
check "the error names the bad file" grep -q "bad.xyz" "$tmp/cls2.err"
check "the good file is still classified" grep -q "disk_000.xyz" "$tmp/cls2.txt"
printf 'garbage' > "$tmp/bogus.safetensors"
"$pcv" classify "$tmp/bogus.safetensors" "$cloud" > /dev/null 2> "$tmp/bogus.err"
check "a malformed model file exits 1 naming it" bash -c "[[ $? -ne 0 ]] && grep -q 'bogus.safetensors' '$tmp/bogus.err'"

# pcv op: nn.mul forward and backward on tensors written here (safetensors by hand: no NumPy).
py "
import json, struct
def write(path, tensors):
    header, blob = {}, b''
    for name, (shape, values) in tensors.items():
        data = struct.pack('<%dd' % len(values), *values)
        header[name] = {'dtype': 'F64', 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header).encode()
    open(path, 'wb').write(struct.pack('<Q', len(text)) + text + blob)
write('$tmp/in.safetensors', {'a': ([3], [1, 2, 3]), 'b': ([1], [10])})
write('$tmp/gy.safetensors', {'y': ([3], [1, 1, 2])})"
"$pcv" op nn.mul --in "$tmp/in.safetensors" --out "$tmp/out.safetensors" \
  --grad-in "$tmp/gy.safetensors" --grad-out "$tmp/gx.safetensors" > /dev/null
check "op exits 0" test $? -eq 0
read_values='
import json, struct
def read(path):
    raw = open(path, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; h = json.loads(raw[8:8 + n]); out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        b, e = v["data_offsets"]; out[k] = list(struct.unpack("<%dd" % ((e - b) // 8), raw[8 + n + b:8 + n + e]))
    return out'
check "op writes y = a * b" py "$read_values
assert read('$tmp/out.safetensors') == {'y': [10, 20, 30]}"
check "op writes the input gradients" py "$read_values
assert read('$tmp/gx.safetensors') == {'a': [10, 10, 20], 'b': [1 + 2 + 6]}"
"$pcv" op nn.mul --in "$tmp/in.safetensors" --out "$tmp/o2.safetensors" --attr alpha=2 > /dev/null 2> "$tmp/op.err"
check "op with an unknown attribute fails naming it" bash -c "[[ $? -ne 0 ]] && grep -q \"no attribute 'alpha'\" '$tmp/op.err'"
exit $failed
