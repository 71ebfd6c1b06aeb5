#!/usr/bin/python3
"""Golden cases for nn.linear and nn.matmul -> tests/data/golden/nn/linear_matmul.json.

linear: with and without bias, x of rank 1, 2 and 3. matmul: 2-D x 2-D, batched with broadcast
batch dims, and the 1-D operand forms (1-D x 2-D, 2-D x 1-D, 1-D x 1-D, 1-D x batched).
"""
import torch
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1001)


def linear(x_shape, n_out, bias=True):
    n_in = x_shape[-1]
    inputs = [g.randn(*x_shape), g.randn(n_out, n_in), g.randn(n_out) if bias else None]
    name = f"linear x {list(x_shape)} -> {n_out} " + ("with bias" if bias else "without bias")
    g.case(name, "nn.linear", F.linear, inputs)


linear((7,), 5)
linear((9, 13), 11)
linear((9, 13), 11, bias=False)
linear((2, 5, 7), 3)
linear((3, 1, 6), 4, bias=False)


def matmul(a_shape, b_shape, what):
    g.case(f"matmul {list(a_shape)} x {list(b_shape)} ({what})", "nn.matmul", torch.matmul,
           [g.randn(*a_shape), g.randn(*b_shape)])


matmul((7, 5), (5, 9), "2-D x 2-D")
matmul((1, 6), (6, 1), "2-D x 2-D, unit dims")
matmul((2, 1, 3, 4), (5, 4, 2), "batch dims broadcast")
matmul((3, 5, 4), (4, 6), "batched x 2-D")
matmul((3, 7), (2, 3, 7, 2), "2-D x batched")
matmul((5,), (5, 7), "1-D x 2-D")
matmul((6, 5), (5,), "2-D x 1-D")
matmul((9,), (9,), "1-D x 1-D")
matmul((4,), (3, 4, 5), "1-D x batched")
matmul((2, 3, 5, 4), (4,), "batched x 1-D")

g.write("linear_matmul.json")
