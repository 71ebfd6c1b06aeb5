#!/usr/bin/python3
"""Golden cases for nn.add and nn.mul -> tests/data/golden/nn/elementwise.json.

Same shapes, broadcasting in both directions (including rank extension), and a 0-d operand.
"""
import operator

from common import Golden

g = Golden(__file__, seed=1007)

SHAPES = [
    ((3, 7), (3, 7), "same shape"),
    ((2, 3, 5), (2, 3, 5), "same shape, rank 3"),
    ((2, 1, 3), (4, 1), "broadcast both ways"),
    ((5,), (3, 1), "broadcast, rank extension"),
    ((3, 1, 5), (3, 4, 1), "broadcast, same rank"),
    ((), (2, 3), "0-d with 2-D"),
    ((2, 3), (), "2-D with 0-d"),
]

for op, fn in (("nn.add", operator.add), ("nn.mul", operator.mul)):
    for a, b, what in SHAPES:
        g.case(f"{op[3:]} {list(a)} and {list(b)} ({what})", op, fn, [g.randn(*a), g.randn(*b)])

g.write("elementwise.json")
