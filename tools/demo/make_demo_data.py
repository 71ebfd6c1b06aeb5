#!/usr/bin/python3
"""Writes the demo's bundled data under data/demo (run from the repository root):

  shapes/<class>/*.xyz   72 small synthetic clouds (sphere, cube, disk, cylinder surfaces),
                         randomly rotated about z and scaled: free of any licence
  pointnet_tiny.init.safetensors   a small PointNet-style classifier with initial weights

`make demo` trains it with data/demo/train.json, evaluates and classifies with the result.
Needs NumPy (Debian python3-numpy).
"""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "models"))
from pcv_model import uniform_init, write_model  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "data/demo"
POINTS = 128
rng = np.random.default_rng(2026)


def shape(kind):
    if kind == "sphere":
        p = rng.standard_normal((POINTS, 3))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    elif kind == "cube":
        p = rng.uniform(-1, 1, (POINTS, 3))
        face = rng.integers(0, 3, POINTS)
        p[np.arange(POINTS), face] = rng.choice([-1.0, 1.0], POINTS)
    elif kind == "disk":
        r, t = np.sqrt(rng.uniform(0, 1, POINTS)), rng.uniform(0, 2 * np.pi, POINTS)
        p = np.stack([r * np.cos(t), r * np.sin(t), rng.uniform(-0.02, 0.02, POINTS)], axis=1)
    else:  # cylinder side
        t = rng.uniform(0, 2 * np.pi, POINTS)
        p = np.stack([0.5 * np.cos(t), 0.5 * np.sin(t), rng.uniform(-1, 1, POINTS)], axis=1)
    a = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return (p @ rot.T) * rng.uniform(0.5, 2.0) + rng.uniform(-1, 1, 3)


def main():
    for kind in ("sphere", "cube", "disk", "cylinder"):
        folder = OUT / "shapes" / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(18):
            np.savetxt(folder / f"{kind}_{i:03d}.xyz", shape(kind), fmt="%.4f")
    graph = {
        "inputs": [{"name": "points", "dtype": "float32", "shape": [-1, 3, 64]}],
        "outputs": ["logits"],
        "nodes": [
            {"name": "conv1", "op": "nn.conv1d", "inputs": ["points", "conv1.weight", "conv1.bias"], "outputs": ["h1"]},
            {"name": "bn1", "op": "nn.batch_norm",
             "inputs": ["h1", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"], "outputs": ["b1"]},
            {"name": "relu1", "op": "nn.relu", "inputs": ["b1"], "outputs": ["a1"]},
            {"name": "conv2", "op": "nn.conv1d", "inputs": ["a1", "conv2.weight", "conv2.bias"], "outputs": ["h2"]},
            {"name": "relu2", "op": "nn.relu", "inputs": ["h2"], "outputs": ["a2"]},
            {"name": "pool", "op": "nn.global_max_pool", "inputs": ["a2"], "outputs": ["feature"]},
            {"name": "dropout", "op": "nn.dropout", "attrs": {"p": 0.2}, "inputs": ["feature"],
             "outputs": ["dropped", "dropout_mask"]},
            {"name": "fc", "op": "nn.linear", "inputs": ["dropped", "fc.weight", "fc.bias"], "outputs": ["logits"]},
        ],
    }
    tensors = {
        "conv1.weight": uniform_init(rng, (32, 3, 1), 3), "conv1.bias": uniform_init(rng, (32,), 3),
        "bn1.weight": np.ones(32, np.float32), "bn1.bias": np.zeros(32, np.float32),
        "bn1.running_mean": np.zeros(32, np.float32), "bn1.running_var": np.ones(32, np.float32),
        "conv2.weight": uniform_init(rng, (64, 32, 1), 32), "conv2.bias": uniform_init(rng, (64,), 32),
        "fc.weight": uniform_init(rng, (4, 64), 64), "fc.bias": uniform_init(rng, (4,), 64),
    }
    write_model(OUT / "pointnet_tiny.init.safetensors", graph, tensors)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
