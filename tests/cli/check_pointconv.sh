#!/usr/bin/env bash
# check_pointconv.sh PCV REPO - PointConv from the command line: `pcv run` on a committed one-layer
# model (fused for inference) against its float64 reference outputs, --profile, and `pcv classify`
# with the shipped ModelNet10 model on the synthetic furniture of data/demo.
set -uo pipefail
pcv=$1 repo=$2
source "$(dirname "$0")/common.sh"
export PCV_NUM_THREADS=2
golden=$repo/tests/data/golden/pointconv

"$pcv" run "$golden/graph_pytorch_normals.safetensors" --in "$golden/graph_pytorch_normals.expected.safetensors" \
  --out "$tmp/out.safetensors" --repeat 2 --profile > "$tmp/run.txt"
check "run exits 0" test $? -eq 0
check "run --profile lists the fused op" grep -q "pointconv.pointconv" "$tmp/run.txt"
check "run --repeat prints the median" grep -q "^median after the first:" "$tmp/run.txt"
check "run's outputs match the reference layer" /usr/bin/python3 - "$tmp/out.safetensors" \
  "$golden/graph_pytorch_normals.expected.safetensors" <<'PY'
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for name, e in head.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        fmt = {"F64": "d", "F32": "f"}[e["dtype"]]
        out[name] = struct.unpack("<%d%s" % ((b - a) // struct.calcsize(fmt), fmt), raw[8 + n + a:8 + n + b])
    return out
ours, ref = tensors(sys.argv[1]), tensors(sys.argv[2])
for key in ("new_xyz", "out"):
    worst = max(abs(x - y) / (abs(y) + 1e-3) for x, y in zip(ours[key], ref[key]))
    assert len(ours[key]) == len(ref[key]) and worst < 1e-9, (key, worst)
PY
"$pcv" run "$golden/graph_pytorch_normals.safetensors" --in "$golden/graph_pytorch_xyz_only.expected.safetensors" \
  --out "$tmp/x.safetensors" > /dev/null 2> "$tmp/missing.err"
check "run names the missing graph input" grep -q "has no tensor 'feats'" "$tmp/missing.err"

model=$repo/data/models/pointconv_cls_mn10.safetensors
"$pcv" classify "$model" "$repo"/data/demo/furniture/*.xyz --json > "$tmp/cls.json"
check "classify with the shipped PointConv model exits 0" test $? -eq 0
check "each synthetic piece of furniture gets its own label" /usr/bin/python3 - "$tmp/cls.json" <<'PY'
import json, pathlib, sys
results = json.load(open(sys.argv[1]))
assert len(results) == 5, results
for r in results:
    assert r["top"][0]["label"] == pathlib.Path(r["file"]).stem, r
PY
exit $failed
