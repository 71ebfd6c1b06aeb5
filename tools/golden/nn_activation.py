#!/usr/bin/python3
"""Golden cases for nn.relu, nn.leaky_relu, nn.gelu, nn.sigmoid, nn.tanh and nn.dropout
-> tests/data/golden/nn/activation.json.

Random inputs stay clear of the relu/leaky_relu kink, except in the cases that pin x = 0 exactly
(gradient there is that of the negative side, as in PyTorch). dropout is covered where it is
deterministic: eval mode (identity, mask of ones) and training with p = 0.
"""
import torch
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1004)


def pinned_zeros(shape):
    x = g.randn_away_from(shape)
    x.view(-1)[::4] = 0.0
    return x


for shape in [(3, 7), (2, 3, 5, 7)]:
    g.case(f"relu {list(shape)}", "nn.relu", F.relu, [g.randn_away_from(shape)])
g.case("relu at exactly 0", "nn.relu", F.relu, [pinned_zeros((5, 9))])
g.case("relu 0-d", "nn.relu", F.relu, [torch.tensor(1.25)])

for shape in [(3, 7), (2, 5, 9)]:
    g.case(f"leaky_relu {list(shape)} default slope", "nn.leaky_relu", F.leaky_relu,
           [g.randn_away_from(shape)])
g.case("leaky_relu slope 0.2", "nn.leaky_relu", lambda x: F.leaky_relu(x, 0.2),
       [g.randn_away_from((4, 11))], {"negative_slope": 0.2})
g.case("leaky_relu slope 0.2 at exactly 0", "nn.leaky_relu", lambda x: F.leaky_relu(x, 0.2),
       [pinned_zeros((5, 9))], {"negative_slope": 0.2})
g.case("leaky_relu default slope at exactly 0", "nn.leaky_relu", F.leaky_relu,
       [pinned_zeros((3, 5))])


def wide_randn(*shape):
    """Standard normal scaled by 3, to reach the saturating tails of gelu/sigmoid/tanh too."""
    return g.randn(*shape, scale=3.0)


g.case("gelu exact", "nn.gelu", F.gelu, [wide_randn(3, 7, 5)])
g.case("gelu exact, explicit attribute", "nn.gelu", lambda x: F.gelu(x, approximate="none"),
       [wide_randn(2, 13)], {"approximate": "none"})
g.case("gelu tanh approximation", "nn.gelu", lambda x: F.gelu(x, approximate="tanh"),
       [wide_randn(3, 7, 5)], {"approximate": "tanh"})

for op, fn in (("nn.sigmoid", torch.sigmoid), ("nn.tanh", torch.tanh)):
    g.case(f"{op[3:]} [3, 7, 5]", op, fn, [wide_randn(3, 7, 5)])
    g.case(f"{op[3:]} [11]", op, fn, [wide_randn(11)])


def dropout(p, training):
    def fn(x):
        return F.dropout(x, p, training), torch.ones_like(x, dtype=torch.uint8)
    return fn


g.case("dropout eval, default p 0.5: identity, mask all ones", "nn.dropout", dropout(0.5, False),
       [g.randn(3, 7, 5)])
g.case("dropout eval, p 0.3", "nn.dropout", dropout(0.3, False), [g.randn(4, 9)], {"p": 0.3})
g.case("dropout training, p 0: identity, mask all ones", "nn.dropout", dropout(0.0, True),
       [g.randn(2, 3, 11)], {"p": 0.0}, training=True)

g.write("activation.json")
