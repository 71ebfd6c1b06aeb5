#!/bin/sh
# Trains data/models/pointconv_cls_mn10.safetensors from scratch: the compact xyz-only PointConv
# classifier (tools/models/pointconv_graphs.py --size compact, 512 points) on the ModelNet10 train
# split in ../shared/data/modelnet10, every 10th shape of each class held out for validation
# (data/models/pointconv_cls_mn10.train.json). About 4-5 minutes per epoch on 2 cores.
#   tools/models/train_pointconv_cls_mn10.sh [--resume]
set -eu
cd "$(dirname "$0")/../.."
data=../shared/data/modelnet10
[ -d "$data" ] || { echo "train_pointconv_cls_mn10: $data not found (ModelNet10 train split, see ../shared/data/README.md)" >&2; exit 1; }
out=runs/pointconv_cls_mn10
mkdir -p "$out"
if [ "${1:-}" != "--resume" ]; then
  /usr/bin/python3 tools/models/pointconv_graphs.py classifier --size compact --xyz-only --points 512 --classes 10 \
    --labels bathtub,bed,chair,desk,dresser,monitor,night_stand,sofa,table,toilet --seed 3 --out "$out/init.safetensors"
fi
build/bin/pcv train data/models/pointconv_cls_mn10.train.json ${1:-}
cp "$out/model.safetensors" data/models/pointconv_cls_mn10.safetensors
echo "wrote data/models/pointconv_cls_mn10.safetensors"
