#!/usr/bin/python3
"""Golden cases for upsample.conv_transpose{1,2,3}d -> tests/data/golden/upsample/conv_transpose.json.

For each rank: plain, stride 2 with output_padding, stride larger than the kernel, dilation 2,
groups (including depthwise), no bias, a 1-wide (1x1, 1x1x1) input, batch 1, odd and
non-square sizes, per-dimension attributes, output_padding larger than padding (which oneDNN
cannot express: the float32 path falls back to the reference), and an explicit output_size
(PyTorch's ConvTranspose forward(x, output_size) picks the output_padding).
"""
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=2001, plugin="upsample")

CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def output_padding_for(x_shape, kernel, output_size, stride=None, padding=None, dilation=None):
    """The output_padding PyTorch's _output_padding derives from output_size."""
    rank = len(kernel)
    stride = stride or [1] * rank
    padding = padding or [0] * rank
    dilation = dilation or [1] * rank
    pad = lambda v, d: v[d] if len(v) == rank else v[0]  # noqa: E731
    out = []
    for d in range(rank):
        smallest = ((x_shape[2 + d] - 1) * pad(stride, d) - 2 * pad(padding, d) +
                    pad(dilation, d) * (kernel[d] - 1) + 1)
        out.append(output_size[d] - smallest)
    return out


def convt(what, x_shape, c_out, kernel, bias=True, output_size=None, **attrs):
    rank = len(kernel)
    c_in = x_shape[1]
    groups = attrs.get("groups", 1)
    inputs = [g.randn(*x_shape), g.randn(c_in, c_out // groups, *kernel),
              g.randn(c_out) if bias else None]
    name = (f"conv_transpose{rank}d {what}: x {list(x_shape)}, weight {list(inputs[1].shape)}")
    torch_attrs = dict(attrs)
    case_attrs = dict(attrs)
    if output_size is not None:
        torch_attrs["output_padding"] = output_padding_for(
            x_shape, kernel, output_size, attrs.get("stride"), attrs.get("padding"),
            attrs.get("dilation"))
        case_attrs["output_size"] = output_size
    fn = CONVT[rank]
    g.case(name, f"upsample.conv_transpose{rank}d", lambda x, w, b: fn(x, w, b, **torch_attrs),
           inputs, case_attrs)


# conv_transpose1d
convt("plain", (2, 3, 7), 4, (3,))
convt("stride 2, padding 1, output_padding 1", (2, 3, 5), 4, (3,), stride=[2], padding=[1],
      output_padding=[1])
convt("stride 3 > kernel 2", (2, 3, 5), 2, (2,), stride=[3])
convt("dilation 2, padding 2", (2, 3, 6), 4, (3,), dilation=[2], padding=[2])
convt("groups 2", (2, 4, 5), 6, (3,), groups=2, stride=[2])
convt("depthwise", (1, 3, 5), 3, (4,), groups=3, stride=[2], padding=[1])
convt("no bias, batch 1", (1, 2, 4), 3, (2,), bias=False, stride=[2])
convt("1-wide input", (2, 3, 1), 2, (3,), stride=[2])
convt("output_padding 1 > padding 0", (2, 3, 4), 2, (3,), stride=[2], output_padding=[1])
convt("output_size", (2, 3, 5), 2, (3,), stride=[3], padding=[1], output_size=[14])

# conv_transpose2d
convt("plain", (2, 3, 5, 4), 4, (3, 3))
convt("k3 s2 p1 op1 (5x7 -> 10x14)", (2, 3, 5, 7), 2, (3, 3), stride=[2], padding=[1],
      output_padding=[1])
convt("k3 s3 p2 op2 d2 (4x4 -> 12x12)", (1, 2, 4, 4), 3, (3, 3), stride=[3], padding=[2],
      output_padding=[2], dilation=[2])
convt("k4 s2 p1", (2, 4, 5, 6), 3, (4, 4), stride=[2, 2], padding=[1, 1])
convt("stride 3x2 > kernel 2x1", (2, 3, 3, 4), 2, (2, 1), stride=[3, 2])
convt("groups 4 (C_in 8, C_out 12)", (2, 8, 3, 4), 12, (3, 3), groups=4, stride=[2],
      padding=[1])
convt("depthwise, dilation 2x1", (2, 4, 4, 5), 4, (3, 2), groups=4, dilation=[2, 1])
convt("non-square kernel, per-dim attributes, no bias", (2, 3, 6, 5), 2, (4, 3), bias=False,
      stride=[2, 3], padding=[1, 0], output_padding=[0, 2])
convt("1x1 input, batch 1", (1, 3, 1, 1), 4, (4, 4), stride=[2])
convt("output_padding 1 > padding 0", (2, 2, 3, 3), 3, (3, 3), stride=[2], output_padding=[1])
convt("dilation 3 lets output_padding 2 with stride 1", (2, 2, 4, 4), 2, (2, 2), dilation=[3],
      output_padding=[2])
convt("output_size", (2, 3, 4, 5), 2, (3, 3), stride=[2], padding=[1], output_size=[8, 10])

# conv_transpose3d
convt("plain", (2, 2, 3, 4, 3), 3, (2, 2, 2))
convt("k4 s2 p1", (2, 3, 3, 3, 4), 2, (4, 4, 4), stride=[2], padding=[1])
convt("groups 2, dilation 2", (2, 4, 3, 3, 3), 4, (2, 3, 2), groups=2, dilation=[2])
convt("stride 3, output_padding 1x2x0", (1, 2, 2, 3, 2), 2, (2, 2, 2), stride=[3],
      output_padding=[1, 2, 0])
convt("1x1x1 input, no bias", (2, 3, 1, 1, 1), 2, (3, 3, 3), bias=False, stride=[2], padding=[1])
convt("output_size", (1, 2, 3, 3, 3), 2, (3, 3, 3), stride=[2], padding=[1],
      output_size=[6, 5, 6])

g.write("conv_transpose.json")
