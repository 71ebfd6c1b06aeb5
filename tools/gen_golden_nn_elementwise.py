#!/usr/bin/python3
"""Writes plugins/nn/tests/golden/elementwise.json: float64 NumPy reference values for the nn
plugin's elementwise ops (relu, add with broadcasting), forward and backward.

Semantics follow PyTorch: relu's gradient at exactly 0 is 0; add broadcasts like NumPy and the
gradient of a broadcast input is the output gradient summed over the stretched dimensions.

Run from the repository root:  /usr/bin/python3 tools/gen_golden_nn_elementwise.py
"""
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "plugins/nn/tests/golden/elementwise.json"
rng = np.random.default_rng(20261122)


def tensor(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": a.ravel().tolist()}


def unbroadcast(grad, shape):
    """Sums grad over the dimensions along which an input of `shape` was stretched."""
    lead = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(lead))) if lead else grad
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def relu_case(shape):
    x = rng.standard_normal(shape)
    x.flat[::5] = 0.0  # pin the convention at the kink
    g = rng.standard_normal(shape)
    return {"op": "nn.relu", "inputs": [tensor(x)], "outputs": [tensor(np.maximum(x, 0.0))],
            "grad_outputs": [tensor(g)], "grad_inputs": [tensor(np.where(x > 0, g, 0.0))]}


def add_case(shape_a, shape_b):
    a = rng.standard_normal(shape_a)
    b = rng.standard_normal(shape_b)
    y = a + b
    g = rng.standard_normal(y.shape)
    return {"op": "nn.add", "inputs": [tensor(a), tensor(b)], "outputs": [tensor(y)],
            "grad_outputs": [tensor(g)],
            "grad_inputs": [tensor(unbroadcast(g, a.shape)), tensor(unbroadcast(g, b.shape))]}


cases = [
    relu_case((3, 4)),
    relu_case((2, 3, 5)),
    add_case((2, 3), (2, 3)),
    add_case((2, 1, 3), (4, 1)),
    add_case((5,), (3, 1)),
    add_case((), (2, 3)),
]
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/gen_golden_nn_elementwise.py", "dtype": "float64",
                           "cases": cases}, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
