#!/usr/bin/env bash
# check_face_model.sh PCV REPO - `pcv verify MODEL --pairs` with the committed face-embedding model
# (data/models/face_embed_orl): raw images are aligned as the model records (the astronaut's face
# is found), images without a face take the model's fallback and are listed, the JSON has the
# issue's keys; a pairs file naming a missing image fails naming it. (The model's accuracy is
# measured on ORL by tools/models/train_face_embed_orl.sh: ORL is not in the repository.)
set -uo pipefail
pcv=$1 repo=$2
source "$(dirname "$0")/common.sh"
export PCV_NUM_THREADS=2
model=$repo/data/models/face_embed_orl.safetensors
faces=$repo/tests/data/golden/face
mkdir -p "$tmp/img"
cp "$faces/astronaut_face.png" "$faces/crop_arcface_224.png" "$faces/crop_arcface_256.png" "$tmp/img/"
# Four grey noise images (no face; seeded), and the pairs: the astronaut with her aligned crops
# (same), each of the three with each noise image (diff).
/usr/bin/python3 - "$tmp" <<'PY'
import random, sys
tmp = sys.argv[1]
rng = random.Random(3)
for k in range(4):
    with open(f"{tmp}/img/noise{k}.pgm", "wb") as f:
        f.write(b"P5 92 112 255\n" + bytes(rng.randrange(256) for _ in range(92 * 112)))
faces = ["astronaut_face.png", "crop_arcface_224.png", "crop_arcface_256.png"]
with open(f"{tmp}/pairs.txt", "w") as f:
    f.write("# image1 image2 same|diff\n")
    for i in range(3):
        for j in range(i + 1, 3):
            f.write(f"img/{faces[i]} img/{faces[j]} same\n")
    for a in faces:
        for k in range(4):
            f.write(f"img/{a} img/noise{k}.pgm diff\n")
PY
"$pcv" verify "$model" --pairs "$tmp/pairs.txt" --json > "$tmp/out.json" 2> "$tmp/err"
check "verify MODEL --json exits 0" test $? -eq 0
check "verify MODEL --json: the issue's keys, the noise images listed as without a face" \
  /usr/bin/python3 - "$tmp/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pairs"] == 15 and d["positives"] == 3, d
assert 0 <= d["accuracy"] <= 1 and 0 <= d["auc"] <= 1 and set(d["tar_at_far"]) == {"0.1", "0.01", "0.001"}, d
names = sorted(p.rsplit("/", 1)[1] for p in d["no_face"])
assert [n for n in names if n.startswith("noise")] == [f"noise{k}.pgm" for k in range(4)], names
assert "astronaut_face.png" not in names, names
# Aligned, the astronaut is nearer to her own crops than to noise: every pair is told apart.
assert d["auc"] == 1.0, d
PY
"$pcv" verify "$model" --pairs "$tmp/pairs.txt" --no-flip > "$tmp/table" 2>&1
check "verify MODEL (table, --no-flip) exits 0 and lists the fallback images" \
  grep -q "had no face found and were used through the model's fallback" "$tmp/table"
printf 'img/astronaut_face.png img/missing.png same\nimg/astronaut_face.png img/noise0.pgm diff\n' > "$tmp/bad.txt"
"$pcv" verify "$model" --pairs "$tmp/bad.txt" --folds 2 > /dev/null 2> "$tmp/bad.err"
check "a missing image fails naming it" grep -q "missing.png" "$tmp/bad.err"
exit $failed
