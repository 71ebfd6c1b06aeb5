#!/usr/bin/env bash
# check_segment.sh PCV REPO - segmentation from the command line on the synthetic terrain of
# data/demo: `pcv label` from a subset cloud, `pcv segment` with the shipped ground model (one file,
# several into a folder, a bad file in the batch), `pcv eval --json` on the labelled scene and
# --record into a copy of the model, and the errors for a model of the wrong kind.
set -uo pipefail
pcv=$1 repo=$2
source "$(dirname "$0")/common.sh"
export PCV_NUM_THREADS=2
scene=$repo/data/demo/terrain
model=$repo/data/models/pointconv_seg_ground.safetensors

mkdir -p "$tmp/truth"
"$pcv" label "$scene/scene.xyz" --subset "$scene/scene-ground.xyz" --out "$tmp/truth/scene.ply" > "$tmp/label.txt"
check "label exits 0" test $? -eq 0
check "label counts every point once" grep -q "14400 points, label 0: 3335, label 1: 11065" "$tmp/label.txt"

"$pcv" segment "$model" "$scene/scene.xyz" --out "$tmp/labelled.ply" > "$tmp/segment.txt"
check "segment exits 0" test $? -eq 0
check "segment prints the count per class" grep -q "ground" "$tmp/segment.txt"
check "the output holds every point with a label and a colour" /usr/bin/python3 - "$tmp/labelled.ply" <<'PY'
import sys
head = open(sys.argv[1], "rb").read().split(b"end_header")[0].decode()
for line in ("element vertex 14400", "property uint label", "property uchar red"):
    assert line in head, (line, head)
PY

cp "$scene/scene.xyz" "$tmp/other.xyz"
printf 'not a cloud\n' > "$tmp/broken.xyz"
"$pcv" segment "$model" "$scene/scene.xyz" "$tmp/broken.xyz" "$tmp/other.xyz" --out "$tmp/many" \
  > "$tmp/many.txt" 2> "$tmp/many.err"
check "a bad file in the batch fails the run" test $? -ne 0
check "the bad file is named" grep -q "broken.xyz:1: " "$tmp/many.err"
check "the other clouds are still written" test -s "$tmp/many/scene.ply" -a -s "$tmp/many/other.ply"
"$pcv" segment "$model" "$scene/scene.xyz" "$tmp/truth/scene.ply" --out "$tmp/clash" > /dev/null 2> "$tmp/clash.err"
check "two inputs with one stem are refused before anything is written" \
  grep -q "would both be written to .*clash/scene.ply" "$tmp/clash.err"

"$pcv" eval "$model" "$tmp/truth" --json > "$tmp/eval.json"
check "eval exits 0" test $? -eq 0
check "eval --json gives mIoU and per-class IoU, and the ground model finds the ground" \
  /usr/bin/python3 - "$tmp/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r["iou"]) == {"ground", "non-ground"}, r
assert abs(r["miou"] - sum(r["iou"].values()) / 2) < 1e-12, r
assert r["n"] == 14400 and r["miou"] > 0.8, r
PY

cp "$model" "$tmp/recorded.safetensors"
"$pcv" eval "$tmp/recorded.safetensors" "$tmp/truth" --record > /dev/null 2> "$tmp/record.err"
check "eval --record says where it wrote" grep -q "recorded the evaluation in" "$tmp/record.err"
check "the model file now holds the evaluation" /usr/bin/python3 - "$tmp/recorded.safetensors" "$tmp/eval.json" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
recorded, printed = json.loads(meta["pcv.evaluation"]), json.load(open(sys.argv[2]))
assert recorded["miou"] == printed["miou"] and recorded["data"].endswith("truth"), recorded
assert meta["pcv.task"] == "segmentation"
PY

"$pcv" classify "$model" "$scene/scene.xyz" > /dev/null 2> "$tmp/classify.err"
check "classify refuses a segmentation model" grep -q "not a classifier (pcv segment runs it)" "$tmp/classify.err"
"$pcv" segment "$repo/data/models/pointconv_cls_mn10.safetensors" "$scene/scene.xyz" --out "$tmp/x.ply" \
  > /dev/null 2> "$tmp/wrong.err"
check "segment refuses a classifier" grep -q "not a segmentation model" "$tmp/wrong.err"
exit $failed
