#!/usr/bin/env bash
# check_verify.sh PCV - pcv verify: JSON and table on clustered synthetic embeddings, the ROC PNG,
# the cosine metric, errors naming file and line, exit codes.
set -uo pipefail
pcv=$1
source "$(dirname "$0")/common.sh"
json_ok() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); T=d['tar_at_far']; $2" ; }

# 30 identities x 6 images in 16-D: identity centres plus noise, written as float32 safetensors
# without NumPy; 400 same and 400 different pairs in a shuffled (seeded) order. Row 180 is all zeros.
/usr/bin/python3 - "$tmp" <<'PY'
import json, random, struct, sys
tmp = sys.argv[1]
rng = random.Random(5)
ids, per, dim = 30, 6, 16
centres = [[rng.gauss(0, 1) for _ in range(dim)] for _ in range(ids)]
rows = [[c + rng.gauss(0, 0.45) for c in centres[i]] for i in range(ids) for _ in range(per)]
rows.append([0.0] * dim)

def write(path, rows, name="embeddings"):
    data = struct.pack("<%df" % (len(rows) * dim), *[v for r in rows for v in r])
    header = json.dumps({name: {"dtype": "F32", "shape": [len(rows), dim], "data_offsets": [0, len(data)]}}).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)

write(tmp + "/emb.safetensors", rows)
write(tmp + "/feats.safetensors", rows, name="feats")  # the only tensor, another name
pairs = []
while len(pairs) < 400:
    i = rng.randrange(ids); a, b = rng.sample(range(per), 2)
    pairs.append((i * per + a, i * per + b, 1))
while len(pairs) < 800:
    i, j = rng.sample(range(ids), 2)
    pairs.append((i * per + rng.randrange(per), j * per + rng.randrange(per), 0))
rng.shuffle(pairs)
with open(tmp + "/pairs.txt", "w") as f:
    f.write("# i j same\n\n")
    for p in pairs:
        f.write("%d %d %d\n" % p)
PY

"$pcv" verify "$tmp/emb.safetensors" "$tmp/pairs.txt" --json --roc "$tmp/plots/roc.png" > "$tmp/out.json" 2> "$tmp/err"
rc=$?
check "verify --json exits 0" test $rc -eq 0
check "verify --json: 800 pairs, squared_l2, accuracy well above chance" json_ok "$tmp/out.json" \
  "assert d['pairs']==800 and d['positives']==400 and d['negatives']==400 and d['metric']=='squared_l2'; \
   assert d['accuracy']>0.9 and 0<=d['accuracy_std']<0.1 and 0<d['threshold']<4, d; \
   assert len(d['folds'])==10 and all(f['end']-f['begin']==80 for f in d['folds'])"
check "verify --json: AUC and TAR@FAR, n/a as null below 1/400" json_ok "$tmp/out.json" \
  "assert d['auc']>0.95 and set(T)=={'0.1','0.01','0.001'}, d; \
   assert T['0.1']>0.8 and T['0.01'] is not None and T['0.01']<=T['0.1'] and T['0.001'] is None, T"
check "verify --json: mean accuracy is the mean of the folds" json_ok "$tmp/out.json" \
  "import statistics as s; A=[f['accuracy'] for f in d['folds']]; \
   assert abs(s.mean(A)-d['accuracy'])<1e-12 and abs(s.pstdev(A)-d['accuracy_std'])<1e-12"
check "verify --json prints nothing on stderr" test ! -s "$tmp/err"
check "--roc writes a PNG" /usr/bin/python3 -c \
  "import sys; assert open(sys.argv[1],'rb').read(8)==b'\x89PNG\r\n\x1a\n'" "$tmp/plots/roc.png"
check "--roc leaves no temporary file" test "$(ls -A "$tmp/plots")" = "roc.png"

"$pcv" verify "$tmp/feats.safetensors" "$tmp/pairs.txt" --metric cosine --folds 5 --json > "$tmp/cos.json"
rc=$?
check "verify --metric cosine exits 0" test $rc -eq 0
check "cosine: named metric, 5 folds, same ranking as the distance" json_ok "$tmp/cos.json" \
  "e=json.load(open('$tmp/out.json')); assert d['metric']=='cosine' and len(d['folds'])==5; \
   assert abs(d['auc']-e['auc'])<1e-6 and d['accuracy']>0.9 and -1<d['threshold']<1, d"

"$pcv" verify "$tmp/emb.safetensors" "$tmp/pairs.txt" > "$tmp/table"; rc=$?
check "verify table exits 0" test $rc -eq 0
check "table: the pair counts" grep -q "pairs.txt: 800 pairs (400 same, 400 different)$" "$tmp/table"
check "table: accuracy line" grep -Eq "^accuracy  [0-9.]+% \+- [0-9.]+% \(10 folds, mean threshold [0-9.]+\)$" "$tmp/table"
check "table: AUC line" grep -Eq "^AUC       0\.9[0-9]+$" "$tmp/table"
check "table: TAR at FAR 0.001 is n/a" grep -Eq "^0\.001 +n/a$" "$tmp/table"
check "table: why it is n/a" grep -qx "n/a: FAR 0.001 needs at least 1000 different pairs, there are 400" "$tmp/table"
check "table: a row per fold" test "$(grep -Ec '^(10|[1-9]) +[0-9]+-[0-9]+ +[0-9.]+ +[0-9.]+%$' "$tmp/table")" -eq 10

# Errors: one line on stderr naming the file (and line), a non-zero exit.
expect_error() {  # expect_error DESCRIPTION EXPECTED_LINE ARGS...
  "$pcv" verify "${@:3}" > "$tmp/out" 2> "$tmp/err"; local rc=$?
  check "$1: exits non-zero" test $rc -ne 0
  check "$1: says '$2'" grep -qxF "$2" "$tmp/err"
}
printf '0 1 1\n# comment\n1 2\n' > "$tmp/fields.txt"
expect_error "wrong field count" "pcv: error: $tmp/fields.txt:3: expected 'i j same' (3 fields), got 2: '1 2'" \
  "$tmp/emb.safetensors" "$tmp/fields.txt"
printf '0 1 1\n0 181 0\n' > "$tmp/range.txt"
expect_error "index out of range" "pcv: error: $tmp/range.txt:2: index 181 out of range (the embeddings have 181 rows)" \
  "$tmp/emb.safetensors" "$tmp/range.txt"
printf '0 1 1\n2 3 maybe\n' > "$tmp/label.txt"
expect_error "bad label" "pcv: error: $tmp/label.txt:2: bad label 'maybe' (expected 1 for same, 0 for different)" \
  "$tmp/emb.safetensors" "$tmp/label.txt"
printf '0 1 1\n2 x 0\n' > "$tmp/index.txt"
expect_error "bad index" "pcv: error: $tmp/index.txt:2: bad index 'x' (expected a row number from 0)" \
  "$tmp/emb.safetensors" "$tmp/index.txt"
printf '# nothing here\n\n' > "$tmp/empty.txt"
expect_error "empty pairs file" "pcv: error: $tmp/empty.txt: no pairs (the file is empty or holds only comments)" \
  "$tmp/emb.safetensors" "$tmp/empty.txt"
printf '0 1 1\n2 3 1\n' > "$tmp/pos.txt"
expect_error "no negative pairs" "pcv: error: $tmp/pos.txt: no negative pairs (same = 0) among 2 pairs" \
  "$tmp/emb.safetensors" "$tmp/pos.txt"
printf '0 1 1\n2 3 0\n0 7 0\n1 180 0\n' > "$tmp/zero.txt"
expect_error "zero-norm row" \
  "pcv: error: $tmp/emb.safetensors: row 180 has zero norm and cannot be normalised (used at $tmp/zero.txt:4)" \
  "$tmp/emb.safetensors" "$tmp/zero.txt" --folds 2
expect_error "more folds than pairs" "pcv: error: $tmp/zero.txt: 4 pairs, fewer than the 10 folds (see --folds)" \
  "$tmp/emb.safetensors" "$tmp/zero.txt"
"$pcv" verify "$tmp/emb.safetensors" "$tmp/pairs.txt" --roc "$tmp/pairs.txt/roc.png" > "$tmp/out" 2> "$tmp/err"; rc=$?
check "--roc under a file exits non-zero" test $rc -ne 0
check "--roc under a file names the path" grep -q "^pcv: error: $tmp/pairs.txt/roc.png: cannot create the directory" "$tmp/err"
"$pcv" verify "$tmp/emb.safetensors" "$tmp/pairs.txt" --metric l1 > "$tmp/out" 2> "$tmp/err"; rc=$?
check "unknown metric exits non-zero" test $rc -ne 0
"$pcv" verify "$tmp/emb.safetensors" "$tmp/pairs.txt" --folds 1 > "$tmp/out" 2> "$tmp/err"; rc=$?
check "--folds 1 exits non-zero" test $rc -ne 0

"$pcv" verify --help > "$tmp/help"; rc=$?
check "verify --help" test $rc -eq 0
check "verify --help explains the folds" grep -q "without shuffling, into --folds contiguous folds" "$tmp/help"
check "verify --help gives the threshold grid" grep -q "candidates are 0, 0.01, ..., 3.99" "$tmp/help"
check "verify --help defines TAR@FAR" grep -q "TAR@FAR: the largest TAR at a point whose FAR is at most the target" "$tmp/help"

[[ $failed == 0 ]] && echo "CLI verify: OK"
exit $failed
