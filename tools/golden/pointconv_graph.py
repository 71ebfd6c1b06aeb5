#!/usr/bin/python3
"""Golden PointConv layers run as pcv graphs -> tests/data/golden/pointconv/graph_*.safetensors.

Each case is a one-layer model built by tools/models/pointconv_graphs.py (the graph the shipped
networks use) with float64 parameters, plus a file of its inputs and expected outputs:
  graph_<case>.safetensors            the model (graph + parameters, non-trivial BN statistics)
  graph_<case>.expected.safetensors   xyz, feats (the graph inputs), new_xyz and out (float64)

The expected values come from the NumPy reference ../shared/reference/pointconv_ref.py (which
reproduces the official PyTorch layer to float64 rounding) for the PyTorch convention, and from
the TF original's formulas (ball KDE with sigma a variance, sigmoid DensityNet without BN on its
last layer, WeightNet 3->32, mlp[-1] as the width after the convolution) written here on top of
that reference's helpers for the TF convention. Run with Debian's python3 (NumPy); needs
../shared/reference beside the repository.
"""
import pathlib
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared/reference"
if not (REFERENCE / "pointconv_ref.py").exists():
    sys.exit(f"{REFERENCE / 'pointconv_ref.py'} not found: this generator needs ../shared/reference")
sys.path[:0] = [str(REFERENCE), str(REPO / "tools/models")]
import pointconv_ref as ref  # noqa: E402
from pcv_model import write_model, write_safetensors  # noqa: E402
from pointconv_graphs import CONVENTIONS, GraphBuilder, set_abstraction  # noqa: E402

OUT = REPO / "tests/data/golden/pointconv"


def torch_names(layer, params):
    """pointconv_ref parameter tree -> the official state-dict names used by the graphs."""
    out = {}

    def mlp(prefix, layers):
        for i, p in enumerate(layers):
            out[f"{prefix}mlp_convs.{i}.weight"], out[f"{prefix}mlp_convs.{i}.bias"] = p["W"], p["b"]
            if "bn" in p:
                bn = p["bn"]
                for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "mean"),
                                     ("running_var", "var")):
                    out[f"{prefix}mlp_bns.{i}.{ours}"] = bn[theirs]

    mlp(f"{layer}.", params["mlp"])
    mlp(f"{layer}.weightnet.", params["weightnet"])
    mlp(f"{layer}.densitynet.", params["densitynet"])
    lin = params["linear"]
    out[f"{layer}.linear.weight"], out[f"{layer}.linear.bias"] = lin["W"], lin["b"]
    for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "mean"), ("running_var", "var")):
        out[f"{layer}.bn_linear.{ours}"] = lin["bn"][theirs]
    return out


def tf_params(rng_seed, D, mlp):
    """Seeded parameters of a TF-convention layer, in the reference's tree layout."""
    rng = np.random.default_rng(rng_seed)
    cv = CONVENTIONS["tf"]
    p = {"mlp": ref._mlp_params(rng, 3 + D, list(mlp[:-1]), np.float64),
         "weightnet": ref._mlp_params(rng, 3, cv["weight_hidden"] + [cv["cmid"]], np.float64),
         "densitynet": ref._mlp_params(rng, 1, cv["density_hidden"] + [1], np.float64)}
    del p["densitynet"][-1]["bn"]  # the TF DensityNet's last layer has no BN
    c = mlp[-2] if len(mlp) > 1 else 3 + D
    p["linear"] = {**ref._linear_params(rng, cv["cmid"] * c, mlp[-1], np.float64),
                   "bn": ref._bn_params(rng, mlp[-1], np.float64)}
    return p


def ball_inverse_density(xyz, radius, sigma, cap=128):
    d2 = ref.sqdist(xyz, xyz)
    out = np.empty(xyz.shape[:2])
    for b in range(xyz.shape[0]):
        for i in range(xyz.shape[1]):
            found = np.nonzero(d2[b, i] < radius * radius)[0][:cap]
            dens = np.exp(-d2[b, i, found] / (2 * sigma)).sum() / (2 * np.pi * sigma) ** 1.5 / len(found)
            out[b, i] = 1 / dens
    return out


def tf_layer(xyz, feats, p, npoint, nsample, radius, sigma):
    """TF feature_encoding_layer in eval mode (see the module docstring)."""
    inv = ball_inverse_density(xyz, radius, sigma)
    B = xyz.shape[0]
    fps = ref.farthest_point_sample(xyz, npoint)
    new_xyz = np.stack([xyz[b][fps[b]] for b in range(B)])
    idx = ref.knn(xyz, new_xyz, nsample)
    rel = ref.gather(xyz, idx) - new_xyz[:, :, None, :]
    x = np.concatenate([rel, ref.gather(feats, idx)], -1) if feats is not None else rel
    x = ref.mlp_forward(x, p["mlp"]) if p["mlp"] else x
    g = ref.gather(inv[..., None], idx)
    g = g / g.max(axis=2, keepdims=True)
    hidden, last = p["densitynet"][:-1], p["densitynet"][-1]
    g = ref.mlp_forward(g, hidden)
    g = 1 / (1 + np.exp(-(g @ last["W"].T + last["b"])))
    w = ref.mlp_forward(rel, p["weightnet"])
    y = np.einsum("bskc,bskm->bscm", x * g, w).reshape(B, npoint, -1)
    L = p["linear"]
    return new_xyz, np.maximum(ref.bn_eval(y @ L["W"].T + L["b"], L["bn"]), 0)


def write_case(name, xyz, feats, params, build, new_xyz, out):
    b = GraphBuilder(seed=0, dtype=np.float64)
    centres, y = build(b, "feats" if feats is not None else None)
    graph_inputs = [{"name": "xyz", "dtype": "float64", "shape": [-1, xyz.shape[1], 3]}]
    if feats is not None:
        graph_inputs.append({"name": "feats", "dtype": "float64", "shape": [-1, xyz.shape[1], feats.shape[2]]})
    b.node("out.xyz", "nn.reshape", [centres], ["new_xyz"], shape=[-1] + list(new_xyz.shape[1:]))
    b.node("out.feats", "nn.reshape", [y], ["out"], shape=[-1] + list(out.shape[1:]))
    graph = {"inputs": graph_inputs, "outputs": ["new_xyz", "out"], "nodes": b.nodes}
    missing = set(b.tensors) ^ set(params)
    if missing:
        sys.exit(f"{name}: parameter names differ between the graph and the reference: {sorted(missing)}")
    write_model(OUT / f"graph_{name}.safetensors", graph, params)
    expected = {"xyz": xyz, "new_xyz": new_xyz, "out": out}
    if feats is not None:
        expected["feats"] = feats
    write_safetensors(OUT / f"graph_{name}.expected.safetensors", expected)
    print(f"graph_{name}: out {list(out.shape)}, {len(b.nodes)} nodes")


def main():
    rng = np.random.default_rng(3003)
    xyz = rng.uniform(-1, 1, (2, 96, 3))
    normals = rng.standard_normal((2, 96, 3))
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)

    # PyTorch convention, with normals (sa1 of the classifier, scaled down).
    p = ref.make_params(3, [16, 16, 32], seed=1)
    new_xyz, out = ref.pointconv_layer(xyz, normals, p, 24, 8, 0.3)
    write_case("pytorch_normals", xyz, normals, torch_names("layer", p),
               lambda b, f: set_abstraction(b, "layer", "xyz", f, 6, 24, 8, [16, 16, 32], 0.3),
               new_xyz, out)

    # PyTorch convention, xyz only (the ModelNet10 classifier's first layer).
    p = ref.make_params(0, [16, 32], seed=2)
    new_xyz, out = ref.pointconv_layer(xyz, None, p, 16, 12, 0.2)
    write_case("pytorch_xyz_only", xyz, None, torch_names("layer", p),
               lambda b, f: set_abstraction(b, "layer", "xyz", None, 3, 16, 12, [16, 32], 0.2), new_xyz, out)

    # PyTorch convention, group_all around the centroid (sa3).
    feats = rng.standard_normal((2, 96, 5))
    p = ref.make_params(5, [16, 24], seed=3)
    new_xyz, out = ref.pointconv_layer(xyz, feats, p, 1, None, 0.4, group_all=True)
    write_case("pytorch_group_all", xyz, feats, torch_names("layer", p),
               lambda b, f: set_abstraction(b, "layer", "xyz", f, 8, 1, None, [16, 24], 0.4, group_all=True),
               new_xyz, out)

    # TF convention: ball KDE, sigmoid DensityNet, WeightNet 3->32.
    p = tf_params(4, 5, [16, 16, 24])
    new_xyz, out = tf_layer(xyz, feats, p, 20, 10, 0.5, 0.05)
    write_case("tf_ball", xyz, feats, torch_names("layer", p),
               lambda b, f: set_abstraction(b, "layer", "xyz", f, 8, 20, 10, [16, 16, 24], 0.05, convention="tf",
                                            density_mode="ball", radius=0.5),
               new_xyz, out)


if __name__ == "__main__":
    main()
