#!/bin/sh
# Trains data/models/face_embed_orl.safetensors from scratch and measures it: a small CNN
# (tools/models/face_embed_graph.py) with the ArcFace loss on the ORL faces in
# ../shared/data/faces/orl. Identities s1-s25 train (all 10 images each); s26-s30 are held out
# whole and give the open-set verification pairs (all 1225 pairs of their 50 images, shuffled).
# The training crops come from `pcv faces align` (dlib HOG upsampled once, 68 landmarks -> 5,
# insightface's 96x112 template; images without a detected face are resized as face crops), and
# the model records those settings so that `pcv verify` aligns raw images the same way.
# Needs build/bin/pcv, NumPy (/usr/bin/python3) and libdlib-data.
#   tools/models/train_face_embed_orl.sh
set -eu
cd "$(dirname "$0")/../.."
data=../shared/data/faces/orl
[ -d "$data" ] || { echo "train_face_embed_orl: $data not found (ORL faces, see ../shared/data/README.md)" >&2; exit 1; }
out=runs/face_embed_orl
mkdir -p "$out"
build/bin/pcv faces align "$data" "$out/crops" --recursive --upsample 1 --template arcface_96x112 --fallback resize
: > "$out/train.txt"
for s in $(seq 1 25); do
  for f in "$out/crops/s$s"/*_0.png; do echo "crops/s$s/$(basename "$f") s$s" >> "$out/train.txt"; done
done
/usr/bin/python3 - "$data" "$out/pairs_heldout.txt" <<'PY'
import itertools, os, random, sys
data, out = sys.argv[1], sys.argv[2]
images = [f"s{s}/{i}.pgm" for s in range(26, 31) for i in range(1, 11)]
pairs = [(a, b, "same" if a.split("/")[0] == b.split("/")[0] else "diff") for a, b in itertools.combinations(images, 2)]
random.Random(0).shuffle(pairs)  # mix same and diff pairs over the folds
rel = os.path.relpath(os.path.abspath(data), os.path.dirname(os.path.abspath(out)))
with open(out, "w") as f:
    f.writelines(f"{rel}/{a} {rel}/{b} {same}\n" for a, b, same in pairs)
PY
labels=$(seq -s, -f 's%g' 1 25)
/usr/bin/python3 tools/models/face_embed_graph.py --classes 25 --labels "$labels" --dropout 0.4 \
  --face-alignment "$out/crops/summary.json" --out "$out/init.safetensors"
build/bin/pcv train data/models/face_embed_orl.train.json
cp "$out/model.safetensors" data/models/face_embed_orl.safetensors
echo "wrote data/models/face_embed_orl.safetensors"
build/bin/pcv verify data/models/face_embed_orl.safetensors --pairs "$out/pairs_heldout.txt" --roc "$out/roc.png"
