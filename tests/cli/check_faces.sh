#!/usr/bin/env bash
# check_faces.sh PCV REPO - `pcv faces align` on a folder mixing a face photo (the committed
# astronaut region), 8- and 16-bit grey images without a face, a corrupt, an empty and a huge file: one
# 112 x 112 crop and a record for the face, the rest counted in the summary, the batch going on;
# landmarks given in a CSV file instead of dlib's; --recursive over subfolders with --fallback resize.
set -uo pipefail
pcv=$1 repo=$2
source "$(dirname "$0")/common.sh"
export PCV_NUM_THREADS=2
in=$tmp/in
mkdir -p "$in"
cp "$repo/tests/data/golden/face/astronaut_face.png" "$in/astro.png"
{ printf 'P5 32 24 255\n'; head -c 768 /dev/zero | tr '\0' '\200'; } > "$in/grey8.pgm"
{ printf 'P5 32 24 65535\n'; head -c 1536 /dev/zero | tr '\0' '\100'; } > "$in/grey16.pgm"
head -c 300 "$in/astro.png" > "$in/corrupt.png"
: > "$in/empty.jpg"
{ printf 'P5 20000 20000 255\n'; head -c 1000 /dev/zero; } > "$in/huge.pgm"
printf 'not an image\n' > "$in/notes.txt"

"$pcv" faces align "$in" "$tmp/out" > "$tmp/out.txt" 2> "$tmp/err.txt"
check "a batch with unreadable files exits non-zero" test $? -ne 0
check "the corrupt file is named" grep -q "corrupt.png: not a readable image" "$tmp/err.txt"
check "the empty file is named" grep -q "empty.jpg: the file is empty" "$tmp/err.txt"
check "a 400 Mpx image is refused from its header" grep -q "huge.pgm: the image is larger than the 100 Mpx" "$tmp/err.txt"
check "the summary line counts everything" grep -q "^6 images: 1 faces aligned; 2 without a face, 3 could not be read" "$tmp/out.txt"
check "summary.json, the crop and the record" /usr/bin/python3 - "$tmp/out" <<'PY'
import json, struct, sys, pathlib
out = pathlib.Path(sys.argv[1])
s = json.load(open(out / "summary.json"))
assert s["images"] == 6 and s["faces"] == 1 and len(s["failed"]) == 3, s
assert sorted(pathlib.Path(p).name for p in s["no_face"]) == ["grey16.pgm", "grey8.pgm"], s
png = open(out / "astro_0.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (112, 112), png[:24]
face = json.load(open(out / "astro.json"))["faces"][0]
assert len(face["landmarks68"]) == 136 and len(face["landmarks5"]) == 10, face.keys()
assert face["residual"] < 6 and 0.5 < face["scale"] < 2 and face["upsample"] == 0, face
PY

"$pcv" faces align "$in" "$tmp/out2" --jobs 2 --size 224 > /dev/null 2>&1
check "--jobs 2 --size 224 gives the same faces at 224" /usr/bin/python3 - "$tmp/out2" <<'PY'
import json, struct, sys, pathlib
out = pathlib.Path(sys.argv[1])
assert json.load(open(out / "summary.json"))["faces"] == 1
assert struct.unpack(">II", open(out / "astro_0.png", "rb").read()[16:24]) == (224, 224)
PY
printf 'image,x1,y1,x2,y2,x3,y3,x4,y4,x5,y5\nastro.png,63.1667,71.5,106.8333,74,85,97,61,110,105,111\n' > "$tmp/marks.csv"
"$pcv" faces align "$in" "$tmp/out3" --landmarks "$tmp/marks.csv" > /dev/null 2>&1
check "--landmarks: the given points give insightface's transform" /usr/bin/python3 - "$tmp/out3" \
  "$repo/tests/data/golden/face/align.json" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
face = json.load(open(out / "astro.json"))["faces"][0]
golden = json.load(open(sys.argv[2]))["cases"][0]["matrix"]
assert all(abs(a - b) < 1e-9 for r, g in zip(face["transform"], golden) for a, b in zip(r, g)), (face, golden)
assert "box" not in face and len(face["landmarks5"]) == 10
PY
printf 'astro.png,1,2,3\n' > "$tmp/bad.csv"
"$pcv" faces align "$in" "$tmp/out4" --landmarks "$tmp/bad.csv" > /dev/null 2> "$tmp/bad.err"
check "--landmarks: a short line is named" grep -q "bad.csv:1: a face needs 5 points" "$tmp/bad.err"
mkdir -p "$tmp/tree/people" "$tmp/tree/empty_rooms"
cp "$in/astro.png" "$tmp/tree/people/"
cp "$in/grey8.pgm" "$tmp/tree/empty_rooms/"
"$pcv" faces align "$tmp/tree" "$tmp/out5" --recursive --template arcface_96x112 --fallback resize > "$tmp/out5.txt" 2>&1
check "--recursive --fallback resize exits 0" test $? -eq 0
check "--recursive mirrors the folders; --fallback resize crops the faceless image, says so" \
  /usr/bin/python3 - "$tmp/out5" <<'PY'
import json, struct, sys, pathlib
out = pathlib.Path(sys.argv[1])
size = lambda p: struct.unpack(">II", open(p, "rb").read()[16:24])
assert size(out / "people" / "astro_0.png") == (96, 112)
assert size(out / "empty_rooms" / "grey8_0.png") == (96, 112)
record = json.load(open(out / "empty_rooms" / "grey8.json"))
assert record["faces"] == [] and record["fallback"] == {"kind": "resize", "crop": "grey8_0.png"}, record
s = json.load(open(out / "summary.json"))
assert s["faces"] == 1 and [pathlib.Path(p).name for p in s["no_face"]] == ["grey8.pgm"], s
assert s["alignment"]["fallback"] == "resize" and s["alignment"]["template"] == "arcface_96x112", s
PY
check "the faceless image is reported as resized" grep -q "grey8.pgm (resized as a face crop)" "$tmp/out5.txt"
"$pcv" faces align "$tmp/tree" "$tmp/out6" > "$tmp/out6.txt" 2>&1
check "without --recursive a folder of folders has no images, and says why" \
  grep -q "no image files (see --recursive)" "$tmp/out6.txt"
exit $failed
