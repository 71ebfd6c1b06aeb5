#!/bin/sh
# Trains data/models/pointconv_seg_ground.safetensors from scratch: a quarter-width PointConv
# encoder-decoder (tools/models/pointconv_graphs.py segmentation) labelling ground / non-ground on
# the ISPRS terrain samples in ../shared/data/terrain. The labels come from each sample's ground
# file (`pcv label`); one sample per site (12, 24, 42, 54; sites 3, 6, 7 have one sample each) is
# held out for validation (data/models/pointconv_seg_ground.train.json). Needs build/bin/pcv.
#   tools/models/train_pointconv_seg_ground.sh [--resume]
set -eu
cd "$(dirname "$0")/../.."
data=../shared/data/terrain
[ -d "$data" ] || { echo "train_pointconv_seg_ground: $data not found (ISPRS terrain, see ../shared/data/README.md)" >&2; exit 1; }
out=runs/pointconv_seg_ground
mkdir -p "$out" runs/terrain/train runs/terrain/val
for n in 11 12 21 22 23 24 31 41 42 51 52 53 54 61 71; do
  case $n in 12|24|42|54) part=val ;; *) part=train ;; esac
  build/bin/pcv label "$data/samp$n-utm.pcd" --subset "$data/samp$n-utm-ground.pcd" --out "runs/terrain/$part/samp$n.ply"
done
if [ "${1:-}" != "--resume" ]; then
  /usr/bin/python3 tools/models/pointconv_graphs.py segmentation --width 0.25 --points 2048 --classes 2 \
    --labels non-ground,ground --seed 5 --out "$out/init.safetensors"
fi
build/bin/pcv train data/models/pointconv_seg_ground.train.json ${1:-}
cp "$out/model.safetensors" data/models/pointconv_seg_ground.safetensors
echo "wrote data/models/pointconv_seg_ground.safetensors"
