#!/usr/bin/python3
"""Golden cases for nn.conv1d, nn.conv2d and nn.conv3d -> tests/data/golden/nn/conv.json.

For each rank: plain, stride 2, per-dimension (asymmetric) stride and padding, dilation 2,
groups 2, depthwise (groups = C_in, with a channel multiplier), no bias, and the single-entry
form of the spatial attributes; batch 2 and odd spatial sizes throughout.
"""
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1002)

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def conv(what, x_shape, c_out, kernel, bias=True, **attrs):
    rank = len(kernel)
    c_in = x_shape[1]
    groups = attrs.get("groups", 1)
    inputs = [g.randn(*x_shape), g.randn(c_out, c_in // groups, *kernel),
              g.randn(c_out) if bias else None]
    name = f"conv{rank}d {what}: x {list(x_shape)}, weight {list(inputs[1].shape)}"
    fn = CONV[rank]
    g.case(name, f"nn.conv{rank}d", lambda x, w, b: fn(x, w, b, **attrs), inputs, attrs)


# conv1d
conv("plain", (2, 3, 11), 4, (3,))
conv("stride 2", (2, 3, 11), 4, (3,), stride=[2])
conv("stride 3, padding 2", (2, 3, 13), 5, (4,), stride=[3], padding=[2])
conv("dilation 2, padding 1", (2, 3, 11), 4, (3,), dilation=[2], padding=[1])
conv("groups 2", (2, 4, 9), 6, (3,), groups=2)
conv("depthwise x2", (2, 3, 9), 6, (5,), groups=3, padding=[2])
conv("no bias", (2, 3, 9), 2, (2,), bias=False)
conv("kernel 1", (2, 5, 7), 3, (1,))

# conv2d
conv("plain", (2, 3, 7, 9), 4, (3, 3))
conv("stride 2", (2, 3, 7, 9), 4, (3, 3), stride=[2, 2])
conv("stride 2x1, padding 1x0", (2, 3, 7, 9), 4, (3, 2), stride=[2, 1], padding=[1, 0])
conv("stride 1x3, padding 0x2", (2, 2, 5, 11), 3, (2, 3), stride=[1, 3], padding=[0, 2])
conv("dilation 2", (2, 2, 9, 7), 3, (3, 3), dilation=[2, 2])
conv("dilation 1x2, padding 2x1", (2, 2, 7, 9), 3, (3, 3), dilation=[1, 2], padding=[2, 1])
conv("groups 2", (2, 4, 7, 5), 6, (3, 3), groups=2, padding=[1, 1])
conv("depthwise", (2, 3, 7, 9), 3, (3, 3), groups=3)
conv("no bias", (2, 3, 5, 7), 4, (3, 1), bias=False)
conv("single-entry stride 2, padding 1", (2, 2, 7, 9), 3, (3, 3), stride=[2], padding=[1])
conv("all attributes", (2, 4, 11, 9), 4, (3, 2), stride=[2, 3], padding=[2, 1],
     dilation=[2, 1], groups=2, bias=False)

# conv3d
conv("plain", (2, 2, 5, 6, 7), 3, (3, 3, 3))
conv("stride 2", (2, 2, 5, 6, 7), 2, (3, 3, 3), stride=[2, 2, 2])
conv("stride 1x2x3, padding 1x0x2", (2, 2, 5, 4, 7), 3, (2, 3, 3),
     stride=[1, 2, 3], padding=[1, 0, 2])
conv("dilation 2", (2, 2, 5, 6, 7), 2, (2, 2, 3), dilation=[2, 2, 2])
conv("groups 2", (2, 4, 3, 5, 4), 2, (2, 3, 2), groups=2)
conv("depthwise", (2, 3, 3, 4, 5), 3, (3, 2, 3), groups=3, padding=[1])
conv("no bias", (2, 2, 3, 5, 4), 3, (1, 3, 2), bias=False)

g.write("conv.json")
