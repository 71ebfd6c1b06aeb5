#!/usr/bin/python3
"""Writes an initial face-embedding model: a small CNN for grey 112 x 96 face crops (four 3x3
stride-2 convolutions with batch norm and ReLU, 16 -> 128 channels by default; then insightface's
"E" output block: batch norm, dropout, flatten, linear, batch norm; or --head gap: global average
pooling, linear, batch norm) and the ArcFace class centres `arcface.weight` [classes, dim] that
pcv train's margin loss learns with it. --face-alignment stores how the training crops were
aligned (the summary.json of pcv faces align) for pcv verify. See data/models/README.md
(face_embed_orl) and tools/models/train_face_embed_orl.sh. Needs NumPy.

    tools/models/face_embed_graph.py --classes 25 --labels s1,s2,... --dropout 0.4 \
        --face-alignment crops/summary.json --out init.safetensors
"""
import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pcv_model import uniform_init, write_model  # noqa: E402
from pointconv_graphs import GraphBuilder  # noqa: E402

HEIGHT, WIDTH = 112, 96


def embedding_net(classes, dim=128, widths=(16, 32, 64, 128), head="flatten", dropout=0.0, blocks=1, seed=0):
    b = GraphBuilder(seed)
    x, cin = "image", 1
    height, width = HEIGHT, WIDTH
    for i, cout in enumerate(widths, start=1):
        for j in range(blocks):
            name = f"conv{i}" if j == 0 else f"conv{i}_{j}"
            b.tensors[f"{name}.weight"] = uniform_init(b.rng, (cout, cin, 3, 3), cin * 9)
            x = b.node(name, "nn.conv2d", [x, f"{name}.weight"], [f"{name}:y"], stride=[2 if j == 0 else 1],
                       padding=[1])
            x = b.batch_norm(name.replace("conv", "bn"), x, cout, dim=1)
            x = b.activation(name.replace("conv", "relu"), x, "relu")
            cin = cout
        height, width = (height + 1) // 2, (width + 1) // 2
    if head == "gap":
        x = b.node("pool", "nn.global_avg_pool", [x], ["pooled"])
        features = cin
    else:  # insightface's "E" output: batch norm, dropout, flatten, linear, batch norm
        x = b.batch_norm("head_bn", x, cin, dim=1)
        if dropout > 0:
            x = b.node("head_dropout", "nn.dropout", [x], ["head_dropout:y", "head_dropout:mask"], p=dropout)[0]
        x = b.node("flatten", "nn.flatten", [x], ["flat"], start_dim=1)
        features = cin * height * width
    x = b.linear("embed", x, features, dim)
    b.batch_norm("embed_bn", x, dim, dim=1)
    b.nodes[-1]["outputs"] = ["embedding"]
    b.tensors["arcface.weight"] = b.rng.standard_normal((classes, dim)).astype(np.float32) / np.sqrt(dim)
    graph = {"inputs": [{"name": "image", "dtype": "float32", "shape": [-1, 1, HEIGHT, WIDTH]}],
             "outputs": ["embedding"], "nodes": b.nodes}
    preprocessing = {"input": "image", "height": HEIGHT, "width": WIDTH, "image_channels": 1,
                     "layout": "channels_first"}
    return graph, b.tensors, preprocessing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classes", type=int, required=True, help="training identities (ArcFace centres)")
    ap.add_argument("--labels", help="comma-separated identity names stored in the model")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--widths", default="16,32,64,128", help="channels of the four convolutions")
    ap.add_argument("--head", choices=("flatten", "gap"), default="flatten",
                    help="flatten: batch norm, dropout, flatten, linear (keeps where features are); gap: global average pooling")
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout before the flatten head's linear layer")
    ap.add_argument("--blocks", type=int, default=1, help="convolutions per stage (the first has stride 2)")
    ap.add_argument("--face-alignment", metavar="SUMMARY",
                    help="the summary.json of the pcv faces align run that made the training crops: its "
                         "settings go into the model (pcv.face_alignment) for pcv verify to align raw images alike")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    labels = a.labels.split(",") if a.labels else []
    if labels and len(labels) != a.classes:
        sys.exit(f"--labels names {len(labels)} identities, --classes says {a.classes}")
    graph, tensors, pre = embedding_net(a.classes, a.dim, tuple(int(w) for w in a.widths.split(",")),
                                       a.head, a.dropout, a.blocks, seed=a.seed)
    extra = {}
    if a.face_alignment:
        extra["pcv.face_alignment"] = json.dumps(json.load(open(a.face_alignment))["alignment"])
    write_model(a.out, graph, tensors, labels=labels, preprocessing=pre, extra_metadata=extra)
    print(f"wrote {a.out}: {len(graph['nodes'])} nodes, {sum(v.size for k, v in tensors.items() if 'running' not in k):,} parameters")


if __name__ == "__main__":
    main()
