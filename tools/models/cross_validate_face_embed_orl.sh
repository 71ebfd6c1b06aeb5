#!/bin/sh
# The face-embedding recipe on every 5-identity split of ORL s1-s30 (six models, about a minute
# each on 2 cores): how much the held-out accuracy depends on which identities are held out.
# Writes runs/face_embed_orl/held_out_sA-sB/verify.json and prints one line per split. Leaves
# data/models alone except for the s26-s30 split, which is the shipped model's own.
set -eu
cd "$(dirname "$0")/../.."
for lo in 1 6 11 16 21 26; do
  hi=$((lo + 4))
  tools/models/train_face_embed_orl.sh $lo $hi > /dev/null 2>&1 || { echo "split s$lo-s$hi failed: see tools/models/train_face_embed_orl.sh $lo $hi" >&2; exit 1; }
done
/usr/bin/python3 - <<'PY'
import json, statistics
accs = []
for lo in (1, 6, 11, 16, 21, 26):
    d = f"runs/face_embed_orl" + ("" if lo == 26 else f"/held_out_s{lo}-s{lo + 4}")
    r = json.load(open(f"{d}/verify.json"))
    accs.append(r["accuracy"])
    print(f"held out s{lo}-s{lo + 4}: accuracy {100 * r['accuracy']:.2f}%  AUC {r['auc']:.4f}  "
          f"TAR@FAR=1e-2 {r['tar_at_far']['0.01']:.3f}")
print(f"mean accuracy {100 * statistics.mean(accs):.2f}% (min {100 * min(accs):.2f}%, max {100 * max(accs):.2f}%)")
PY
