#!/usr/bin/python3
"""PointConv networks as pcv graphs (NumPy only): the ModelNet classifier of the official PyTorch
code (DylanWusee/pointconv_pytorch, model/pointconv.py), its xyz-only variant, and a segmentation
encoder-decoder after the TF original (4 PointConv levels down, 4 PointDeconv levels up).

Every layer is built from pointconv and nn ops (see plugins/pointconv/README.md); tensors are
channels-last ([B, S, K, C]) and batch_norm runs with dim = -1. Parameter names are the official
state-dict names (sa1.mlp_convs.0.weight, sa1.weightnet.mlp_bns.2.running_var, fc1.weight, ...),
with 1x1 convolution weights stored as [out, in], so an official checkpoint imports by name
(tools/models/import_pointconv_pytorch.py).

    pointconv_graphs.py classifier --classes 10 --xyz-only --out cls.init.safetensors
    pointconv_graphs.py segmentation --classes 2 --points 4096 --out seg.init.safetensors
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pcv_model import uniform_init, write_model  # noqa: E402

# DensityNet / WeightNet shapes of the two code bases (../shared/reference/pointconv.md §1.3-1.4).
CONVENTIONS = {
    # Official PyTorch: DensityNet 1->16->8->1, every layer BN + ReLU (the sigmoid branch never
    # runs); WeightNet 3->8->8->16, every layer BN + ReLU.
    "pytorch": {"density_hidden": [16, 8], "density_last": "relu", "density_last_bn": True,
                "weight_hidden": [8, 8], "cmid": 16},
    # Paper / TF: DensityNet 1->16 (BN + ReLU) -> 1 (no BN, sigmoid); WeightNet 3->32 (BN + ReLU).
    "tf": {"density_hidden": [16], "density_last": "sigmoid", "density_last_bn": False,
           "weight_hidden": [], "cmid": 32},
}


class GraphBuilder:
    """Collects nodes and initial tensors; layer helpers name parameters like PyTorch modules."""

    def __init__(self, seed, dtype=np.float32):
        self.rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.nodes, self.tensors = [], {}

    def node(self, name, op, inputs, outputs, **attrs):
        entry = {"name": name, "op": op, "inputs": list(inputs), "outputs": list(outputs)}
        if attrs:
            entry["attrs"] = attrs
        self.nodes.append(entry)
        return outputs[0] if len(outputs) == 1 else outputs

    def linear(self, name, x, cin, cout, bias=True):
        """nn.linear with PyTorch's default initialisation; weight [cout, cin]."""
        self.tensors[f"{name}.weight"] = uniform_init(self.rng, (cout, cin), cin).astype(self.dtype)
        inputs = [x, f"{name}.weight"]
        if bias:
            self.tensors[f"{name}.bias"] = uniform_init(self.rng, (cout,), cin).astype(self.dtype)
            inputs.append(f"{name}.bias")
        return self.node(name, "nn.linear", inputs, [f"{name}:y"])

    def batch_norm(self, name, x, c, dim=-1):
        for key, value in (("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1)):
            self.tensors[f"{name}.{key}"] = np.full(c, value, self.dtype)
        return self.node(name, "nn.batch_norm",
                         [x] + [f"{name}.{k}" for k in ("weight", "bias", "running_mean", "running_var")],
                         [f"{name}:y"], dim=dim)

    def activation(self, name, x, kind):
        return self.node(name, f"nn.{kind}", [x], [f"{name}:y"])

    def conv_bn_act(self, conv, bn, x, cin, cout, act="relu", use_bn=True):
        """A PyTorch Conv 1x1 + BatchNorm + activation on channels-last x."""
        y = self.linear(conv, x, cin, cout)
        if use_bn:
            y = self.batch_norm(bn, y, cout)
        return self.activation(f"{conv}.{act}", y, act) if act else y

    def mlp(self, prefix, x, cin, widths, last_act="relu", last_bn=True):
        """prefix.mlp_convs.i / prefix.mlp_bns.i for each width."""
        for i, c in enumerate(widths):
            last = i == len(widths) - 1
            x = self.conv_bn_act(f"{prefix}mlp_convs.{i}", f"{prefix}mlp_bns.{i}", x, cin, c,
                                 act=last_act if last else "relu", use_bn=last_bn or not last)
            cin = c
        return x


def set_abstraction(b, name, xyz, feats, in_channel, npoint, nsample, mlp, bandwidth, group_all=False,
                    convention="pytorch", density_mode="all_pairs", radius=None):
    """One PointConvDensitySetAbstraction. xyz [B, N, 3], feats [B, N, D] or None, in_channel = 3 + D.
    Returns (new_xyz, new_feats [B, S, mlp[-1]])."""
    cv = CONVENTIONS[convention]
    density_attrs = {"mode": density_mode, "bandwidth": bandwidth}
    if density_mode == "ball":
        density_attrs.update(radius=radius, max_neighbours=128)
    inverse = b.node(f"{name}.density", "pointconv.density", [xyz], [f"{name}:inverse"], **density_attrs)
    if group_all:
        centres = b.node(f"{name}.centroid", "pointconv.centroid", [xyz], [f"{name}:xyz"])
        idx = ""
    else:
        fps = b.node(f"{name}.fps", "pointconv.farthest_point_sample", [xyz], [f"{name}:fps"], npoint=npoint)
        centres = b.node(f"{name}.centres", "pointconv.gather_points", [xyz, fps], [f"{name}:xyz"])
        idx = b.node(f"{name}.knn", "pointconv.knn", [xyz, centres], [f"{name}:idx"], k=nsample)
    rel, x = b.node(f"{name}.group", "pointconv.group", [xyz, centres, idx, feats or ""],
                    [f"{name}:rel", f"{name}:grouped"])
    if convention == "pytorch":
        x = b.mlp(f"{name}.", x, in_channel, mlp)
        c = mlp[-1]
    else:  # TF: mlp[:-1] before the convolution, mlp[-1] its output width
        x = b.mlp(f"{name}.", x, in_channel, mlp[:-1])
        c = mlp[-2] if len(mlp) > 1 else in_channel
    scale = b.node(f"{name}.density_scale", "pointconv.density_scale", [inverse, idx], [f"{name}:scale"])
    scale = b.mlp(f"{name}.densitynet.", scale, 1, cv["density_hidden"] + [1], last_act=cv["density_last"],
                  last_bn=cv["density_last_bn"])
    w = b.mlp(f"{name}.weightnet.", rel, 3, cv["weight_hidden"] + [cv["cmid"]])
    y = b.node(f"{name}.aggregate", "pointconv.aggregate", [x, w, scale], [f"{name}:aggregate"])
    out = b.conv_bn_act(f"{name}.linear", f"{name}.bn_linear", y, c * cv["cmid"], mlp[-1])
    return centres, out


def point_deconv(b, name, xyz1, xyz2, feats1, feats2, c1, c2, nsample, mlp, bandwidth, radius):
    """TF feature_decoding_layer: interpolate the sparse level's features onto xyz1, a PointConv
    centred on every dense point (kNN, ball KDE, sigmoid DensityNet, WeightNet 3->32) to mlp[0],
    then the skip features and mlp[1:] (conv + BN + ReLU each). Returns feats [B, N1, mlp[-1]]."""
    cv = CONVENTIONS["tf"]
    inter = b.node(f"{name}.interpolate", "pointconv.knn_interpolate", [xyz1, xyz2, feats2], [f"{name}:interp"])
    inverse = b.node(f"{name}.density", "pointconv.density", [xyz1], [f"{name}:inverse"], mode="ball",
                     bandwidth=bandwidth, radius=radius, max_neighbours=128)
    idx = b.node(f"{name}.knn", "pointconv.knn", [xyz1, xyz1], [f"{name}:idx"], k=nsample)
    rel, x = b.node(f"{name}.group", "pointconv.group", [xyz1, xyz1, idx, inter], [f"{name}:rel", f"{name}:grouped"])
    scale = b.node(f"{name}.density_scale", "pointconv.density_scale", [inverse, idx], [f"{name}:scale"])
    scale = b.mlp(f"{name}.densitynet.", scale, 1, cv["density_hidden"] + [1], last_act="sigmoid", last_bn=False)
    w = b.mlp(f"{name}.weightnet.", rel, 3, cv["weight_hidden"] + [cv["cmid"]])
    y = b.node(f"{name}.aggregate", "pointconv.aggregate", [x, w, scale], [f"{name}:aggregate"])
    out = b.conv_bn_act(f"{name}.linear", f"{name}.bn_linear", y, (3 + c2) * cv["cmid"], mlp[0])
    cin = mlp[0]
    if feats1:
        out = b.node(f"{name}.skip", "nn.concat", [out, feats1], [f"{name}:skip"], dim=-1)
        cin += c1
    return b.mlp(f"{name}.post_", out, cin, mlp[1:]) if len(mlp) > 1 else out


def split_points(b, channels):
    """points [B, N, channels] -> xyz, and the normals when channels == 6."""
    if channels == 3:
        return "points", None
    xyz = b.node("split.xyz", "nn.narrow", ["points"], ["xyz"], dim=-1, start=0, length=3)
    normals = b.node("split.normals", "nn.narrow", ["points"], ["normals"], dim=-1, start=3, length=channels - 3)
    return xyz, normals


# Classifier sizes: per set abstraction (npoint, K, bandwidth, mlp), then the head's widths and
# dropout. "official" is PointConvDensityClsSsg; "compact" a quarter of its width for 512 points,
# trainable on a CPU in about an hour.
CLASSIFIERS = {
    "official": {"sa": [(512, 32, 0.1, [64, 64, 128]), (128, 64, 0.2, [128, 128, 256]), (1, None, 0.4, [256, 512, 1024])],
                 "head": [512, 256], "dropout": 0.7},
    "compact": {"sa": [(256, 32, 0.1, [32, 32, 64]), (64, 32, 0.2, [64, 64, 128]), (1, None, 0.4, [128, 256, 512])],
                "head": [256, 128], "dropout": 0.5},
}


def classifier(classes, xyz_only=False, points=1024, seed=0, convention="pytorch", size="official"):
    """PointConvDensityClsSsg (official model/pointconv.py) or a smaller one of the same shape;
    xyz_only drops the normals (in_channel 3 instead of 6). Output: log-probabilities [B, classes]."""
    b = GraphBuilder(seed)
    cfg = CLASSIFIERS[size]
    channels = 3 if xyz_only else 6
    xyz, feats = split_points(b, channels)
    cin = channels
    for level, (npoint, k, bandwidth, mlp) in enumerate(cfg["sa"], start=1):
        xyz, feats = set_abstraction(b, f"sa{level}", xyz, feats, cin, npoint, k, mlp, bandwidth,
                                     group_all=k is None, convention=convention)
        cin = 3 + mlp[-1]
    width = cfg["sa"][-1][3][-1]
    x = b.node("flatten", "nn.reshape", [feats], ["global"], shape=[-1, width])
    for i, cout in enumerate(cfg["head"], start=1):
        x = b.batch_norm(f"bn{i}", b.linear(f"fc{i}", x, width, cout), cout, dim=1)
        x = b.activation(f"relu{i}", x, "relu")
        x = b.node(f"drop{i}", "nn.dropout", [x], [f"drop{i}:y", f"drop{i}:mask"], p=cfg["dropout"])[0]
        width = cout
    logits = b.linear(f"fc{len(cfg['head']) + 1}", x, width, classes)
    b.node("log_softmax", "nn.log_softmax", [logits], ["log_probs"], dim=-1)
    graph = {"inputs": [{"name": "points", "dtype": "float32", "shape": [-1, points, channels]}],
             "outputs": ["log_probs"], "nodes": b.nodes}
    preprocessing = {"num_points": points, "sampling": "fps", "center": True, "unit_sphere": True,
                     "normals": not xyz_only, "layout": "channels_last"}
    return graph, b.tensors, preprocessing


# Segmentation levels (TF models/pointconv_weight_density_n16.py, scaled to CPU-sized blocks):
# (npoint, K, KDE ball radius, sigma, mlp) per encoder level; decoder (radius, sigma, mlp) per level.
SEG_ENCODER = [(1024, 32, 0.1, 0.05, [32, 32, 64]), (256, 32, 0.2, 0.1, [64, 64, 128]),
               (64, 32, 0.4, 0.2, [128, 128, 256]), (16, 16, 0.8, 0.4, [256, 256, 512])]
SEG_DECODER = [(0.8, 0.4, [256, 256]), (0.4, 0.2, [256, 256]), (0.2, 0.1, [256, 128]), (0.1, 0.05, [128, 128, 128])]


def segmentation(classes, points=4096, seed=0, width=1.0):
    """Encoder-decoder for per-point labels on xyz-only blocks: 4 PointConv levels (TF convention,
    ball KDE), 4 PointDeconv levels (K = 16), head conv 128 + BN + ReLU, dropout 0.5, conv ->
    classes. Output: per-point logits [B, N, classes]. `width` scales every channel count."""
    b = GraphBuilder(seed)
    scaled = lambda cs: [max(8, int(round(c * width))) for c in cs]  # noqa: E731
    xyzs, feats, chans = ["points"], [None], [0]
    for level, (npoint, k, radius, sigma, mlp) in enumerate(SEG_ENCODER, start=1):
        mlp = scaled(mlp)
        new_xyz, out = set_abstraction(b, f"sa{level}", xyzs[-1], feats[-1], 3 + chans[-1], npoint, k, mlp, sigma,
                                       convention="tf", density_mode="ball", radius=radius)
        xyzs.append(new_xyz), feats.append(out), chans.append(mlp[-1])
    x, c = feats[-1], chans[-1]
    for level, (radius, sigma, mlp) in enumerate(SEG_DECODER, start=1):
        mlp = scaled(mlp)
        dense = len(SEG_ENCODER) - level  # the level decoded onto
        x = point_deconv(b, f"fp{level}", xyzs[dense], xyzs[dense + 1], feats[dense], x, chans[dense], c, 16, mlp,
                         sigma, radius)
        c = mlp[-1]
    x = b.conv_bn_act("head.conv1", "head.bn1", x, c, scaled([128])[0])
    x = b.node("head.dropout", "nn.dropout", [x], ["head.dropout:y", "head.dropout:mask"], p=0.5)[0]
    b.linear("head.conv2", x, scaled([128])[0], classes)
    b.nodes[-1]["outputs"] = ["logits"]
    graph = {"inputs": [{"name": "points", "dtype": "float32", "shape": [-1, points, 3]}],
             "outputs": ["logits"], "nodes": b.nodes}
    preprocessing = {"num_points": points, "sampling": "random", "center": True, "unit_sphere": False,
                     "normals": False, "layout": "channels_last"}
    return graph, b.tensors, preprocessing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="kind", required=True)
    cls = sub.add_parser("classifier", help="the official ModelNet classifier")
    cls.add_argument("--classes", type=int, default=40)
    cls.add_argument("--xyz-only", action="store_true", help="no normals: in_channel 3 (ModelNet10 PCDs)")
    cls.add_argument("--points", type=int, default=1024)
    cls.add_argument("--convention", choices=sorted(CONVENTIONS), default="pytorch")
    cls.add_argument("--size", choices=sorted(CLASSIFIERS), default="official")
    seg = sub.add_parser("segmentation", help="4-level PointConv encoder, 4 PointDeconv decoder")
    seg.add_argument("--classes", type=int, default=2)
    seg.add_argument("--points", type=int, default=4096)
    seg.add_argument("--width", type=float, default=1.0, help="scales every channel count")
    for p in (cls, seg):
        p.add_argument("--labels", help="comma-separated class names stored in the model")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--out", required=True, help="the .safetensors model file to write")
    a = ap.parse_args()
    if a.kind == "classifier":
        graph, tensors, pre = classifier(a.classes, a.xyz_only, a.points, a.seed, a.convention, a.size)
    else:
        graph, tensors, pre = segmentation(a.classes, a.points, a.seed, a.width)
    labels = a.labels.split(",") if a.labels else []
    if labels and len(labels) != a.classes:
        sys.exit(f"--labels names {len(labels)} classes, --classes says {a.classes}")
    write_model(a.out, graph, tensors, labels=labels, preprocessing=pre)
    params = sum(v.size for k, v in tensors.items() if "running" not in k)
    print(f"wrote {a.out}: {len(graph['nodes'])} nodes, {params:,} parameters")


if __name__ == "__main__":
    main()
