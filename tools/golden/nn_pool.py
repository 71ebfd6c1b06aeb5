#!/usr/bin/python3
"""Golden cases for nn.max_pool{1,2,3}d, nn.avg_pool{1,2,3}d, nn.global_max_pool and
nn.global_avg_pool -> tests/data/golden/nn/pool.json.

Windowed pools: kernel 2 with the default stride, kernel 3 stride 2 padding 1, ceil_mode where it
adds a window and where the extra window would start in the padding (dropped), dilation 2 (max),
count_include_pad false (avg), non-square kernels, single-entry attributes, an explicit empty
stride. Global pools: 3-D, 4-D and 5-D inputs, keepdim false and true. Max-pool inputs are
tie-free so each argmax is unique.
"""
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1005)

MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
SHAPES = {1: (2, 3, 11), 2: (2, 3, 9, 7), 3: (2, 2, 5, 6, 7)}


def pool(kind, rank, what, x_shape=None, **attrs):
    x_shape = x_shape or SHAPES[rank]
    x = g.distinct(*x_shape) if kind == "max" else g.randn(*x_shape)
    fn = (MAX if kind == "max" else AVG)[rank]
    g.case(f"{kind}_pool{rank}d {what}: x {list(x_shape)}", f"nn.{kind}_pool{rank}d",
           lambda x: fn(x, **attrs), [x], attrs)


for kind in ("max", "avg"):
    for rank in (1, 2, 3):
        pool(kind, rank, "kernel 2", kernel_size=[2] * rank)
        pool(kind, rank, "kernel 3, stride 2, padding 1",
             kernel_size=[3] * rank, stride=[2] * rank, padding=[1] * rank)
        pool(kind, rank, "single-entry kernel 3, stride 2", kernel_size=[3], stride=[2])
    # An empty stride means "equal to kernel_size", in PyTorch as in the README.
    pool(kind, 2, "kernel 3x2, explicit empty stride", kernel_size=[3, 2], stride=[])

    # Size 8, kernel 3, stride 2: ceil_mode adds a partial window at the end.
    pool(kind, 1, "ceil_mode, partial last window", (2, 3, 8),
         kernel_size=[3], stride=[2], ceil_mode=True)
    # Size 5, kernel 2, stride 3, padding 1: the extra ceil_mode window would start in the right
    # padding, so it is dropped.
    pool(kind, 1, "ceil_mode, window in padding dropped", (2, 3, 5),
         kernel_size=[2], stride=[3], padding=[1], ceil_mode=True)
    pool(kind, 2, "ceil_mode, kernel 3x2, stride 2x2, padding 1x0", (2, 3, 8, 7),
         kernel_size=[3, 2], stride=[2, 2], padding=[1, 0], ceil_mode=True)
    pool(kind, 3, "ceil_mode, kernel 2, stride 2", (2, 2, 5, 4, 7),
         kernel_size=[2, 2, 2], ceil_mode=True)
    pool(kind, 2, "non-square kernel 3x2, stride 1x2", kernel_size=[3, 2], stride=[1, 2])
    pool(kind, 2, "kernel 2x4, stride 3x1, padding 1x2", kernel_size=[2, 4], stride=[3, 1],
         padding=[1, 2])
    pool(kind, 3, "kernel 1x3x2, stride 1x2x2, padding 0x1x1",
         kernel_size=[1, 3, 2], stride=[1, 2, 2], padding=[0, 1, 1])

pool("max", 1, "dilation 2", kernel_size=[3], dilation=[2])
pool("max", 2, "dilation 2, padding 1", kernel_size=[3, 3], dilation=[2, 2], padding=[1, 1])
pool("max", 2, "dilation 1x2, stride 2x1, ceil_mode", (2, 3, 8, 9), kernel_size=[2, 3],
     stride=[2, 1], dilation=[1, 2], ceil_mode=True)
pool("max", 3, "dilation 2", kernel_size=[2, 2, 2], dilation=[2, 2, 2], stride=[1, 2, 2])

pool("avg", 1, "count_include_pad false", kernel_size=[3], stride=[2], padding=[1],
     count_include_pad=False)
pool("avg", 2, "count_include_pad false, kernel 3x2, padding 1x1",
     kernel_size=[3, 2], stride=[2, 1], padding=[1, 1], count_include_pad=False)
pool("avg", 2, "count_include_pad false, ceil_mode", (2, 3, 8, 7), kernel_size=[3, 3],
     stride=[2, 2], padding=[1, 1], ceil_mode=True, count_include_pad=False)
pool("avg", 3, "count_include_pad false", kernel_size=[3, 3, 3], stride=[2, 2, 2],
     padding=[1, 1, 1], count_include_pad=False)


def global_pool(kind, x_shape, keepdim):
    dims = tuple(range(2, len(x_shape)))
    if kind == "max":
        x = g.distinct(*x_shape)
        fn = lambda x: x.amax(dims, keepdim)  # noqa: E731
    else:
        x = g.randn(*x_shape)
        fn = lambda x: x.mean(dims, keepdim)  # noqa: E731
    attrs = {"keepdim": True} if keepdim else {}
    g.case(f"global_{kind}_pool x {list(x_shape)} keepdim {str(keepdim).lower()}",
           f"nn.global_{kind}_pool", fn, [x], attrs)


for kind in ("max", "avg"):
    for x_shape in [(2, 3, 11), (2, 3, 5, 7), (2, 2, 3, 4, 5)]:
        for keepdim in (False, True):
            global_pool(kind, x_shape, keepdim)

g.write("pool.json")
