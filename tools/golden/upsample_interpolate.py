#!/usr/bin/python3
"""Golden cases for upsample.interpolate -> tests/data/golden/upsample/interpolate.json.

F.interpolate in float64 for every mode (nearest, nearest-exact, linear, bilinear, trilinear,
bicubic) on 1, 2 and 3 spatial dims: scale factors 2, 1.5, 0.5 (downsampling), 1.7 and per-dim
factors; explicit sizes, including a 1-element output and a 1x1 input; align_corners false and
true; recompute_scale_factor true next to false where the two differ; odd sizes; batch 1.

Subtleties of PyTorch 1.13 the cases pin down:
- nearest and nearest-exact (float64) compute the source position in double precision and round
  it to single precision before the floor: a position on a pixel boundary up to rounding picks
  that pixel (11 x 3.7: 37 / 3.7 is 9.999... in double, source 10); PyTorch's float32 forward,
  in single precision throughout, picks the pixel before at some boundaries (26 -> 22 below);
- the linear modes copy a dim whose size does not change, whatever the scale_factor (4 x 1.2 -> 4);
- with align_corners the scale is (in - 1) / (out - 1) even when scale_factor is given.
Where PyTorch 1.13's backward is not the adjoint of its own forward (its nearest backward
shortcuts out == in and out == 2 * in, its bicubic backward copies when the size does not change,
whatever the scale_factor), the case's gradient is the adjoint of PyTorch's forward, computed
from the forward's matrix; the case name says so. Every other case is checked to have PyTorch's
own gradient equal to that adjoint.
"""
import torch
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=2031, plugin="upsample")
torch.manual_seed(2031)  # the gradient checks only; nothing random from torch goes to the file


def forward_matrix(plane_shape, fn):
    """The matrix M of the linear map fn on one [1, 1, *plane_shape] plane: y = M x."""
    n = 1
    for s in plane_shape:
        n *= s
    columns = []
    with torch.no_grad():
        for i in range(n):
            e = torch.zeros(n)
            e[i] = 1
            columns.append(fn(e.reshape(1, 1, *plane_shape)).reshape(-1))
    return torch.stack(columns, dim=1)


def interpolate(name, x_shape, mode, **attrs):
    x = g.randn(*x_shape)
    kwargs = dict(attrs)
    if "size" in kwargs and len(kwargs["size"]) == 1:
        kwargs["size"] = kwargs["size"][0]
    if "scale_factor" in kwargs:
        sf = kwargs["scale_factor"]
        kwargs["scale_factor"] = sf[0] if len(sf) == 1 else tuple(sf)
    if mode not in ("nearest", "nearest-exact"):
        kwargs.setdefault("align_corners", False)

    def fn(t):
        return F.interpolate(t, mode=mode, **kwargs)

    # PyTorch's gradient against the adjoint of its forward.
    matrix = forward_matrix(x_shape[2:], fn)
    xg = x.clone().requires_grad_(True)
    y = fn(xg)
    dy = torch.randn(y.shape)
    (grad,) = torch.autograd.grad((y * dy).sum(), xg)
    planes = x_shape[0] * x_shape[1]
    adjoint = (dy.reshape(planes, -1) @ matrix).reshape(x_shape)
    case_fn = fn
    if not torch.allclose(grad, adjoint, rtol=0, atol=1e-12):
        name += " (gradient: adjoint of the forward; PyTorch 1.13's backward differs)"
        out_spatial = y.shape[2:]

        def case_fn(t):
            flat = t.reshape(planes, -1) @ matrix.T
            return flat.reshape(*x_shape[:2], *out_spatial)

        assert torch.allclose(case_fn(x), fn(x), rtol=0, atol=1e-13)
    spec = {"mode": mode, **attrs}
    described = ", ".join(f"{k} {v}" for k, v in spec.items())
    g.case(f"{name}: x {list(x_shape)}, {described}", "upsample.interpolate", case_fn, [x], spec)


def align_options(mode):
    return [False] if mode.startswith("nearest") else [False, True]


def with_align(mode, align, attrs):
    return dict(attrs, align_corners=True) if align else attrs


SHAPES = {1: (2, 2, 5), 2: (1, 1, 5, 4), 3: (1, 1, 3, 2, 3)}
MODES = {
    "nearest": (1, 2, 3),
    "nearest-exact": (1, 2, 3),
    "linear": (1,),
    "bilinear": (2,),
    "trilinear": (3,),
    "bicubic": (2,),
}

for mode, ranks in MODES.items():
    for rank in ranks:
        shape = SHAPES[rank]
        for align in align_options(mode):
            a = "align_corners" if align else "half-pixel"
            interpolate(f"{mode} x2 {a}", shape, mode,
                        **with_align(mode, align, {"scale_factor": [2.0]}))
            if rank == 1 or mode in ("bilinear", "bicubic", "nearest", "trilinear"):
                interpolate(f"{mode} x1.5 {a}", shape, mode,
                            **with_align(mode, align, {"scale_factor": [1.5]}))
            interpolate(f"{mode} x0.5 downsampling {a}", shape, mode,
                        **with_align(mode, align, {"scale_factor": [0.5]}))
            per_dim = [1.7, 0.6, 2.5][:rank]
            interpolate(f"{mode} per-dim factors {a}", shape, mode,
                        **with_align(mode, align, {"scale_factor": per_dim}))
            sizes = [7, 3, 2][:rank]
            interpolate(f"{mode} explicit size {a}", shape, mode,
                        **with_align(mode, align, {"size": sizes}))
            interpolate(f"{mode} size 1 {a}", shape, mode, **with_align(mode, align, {"size": [1]}))

# recompute_scale_factor: 5 x 1.7 -> 8, 3 x 1.7 -> 5, 2 x 1.7 -> 3: scale 1 / 1.7 without, in / out
# with. (align_corners ignores the scale_factor: one case shows it.)
RECOMPUTE_SHAPES = {1: (1, 2, 5), 2: (1, 2, 5, 3), 3: (1, 1, 5, 3, 2)}
for mode in MODES:
    shape = RECOMPUTE_SHAPES[MODES[mode][0]]
    for recompute in (False, True):
        attrs = {"scale_factor": [1.7]}
        if recompute:
            attrs["recompute_scale_factor"] = True
        interpolate(f"{mode} x1.7 recompute {str(recompute).lower()}", shape, mode, **attrs)
interpolate("bilinear x1.7 recompute true align_corners", RECOMPUTE_SHAPES[2], "bilinear",
            scale_factor=[1.7], recompute_scale_factor=True, align_corners=True)

# The reference's 1-D examples: ramp x2 (linear), 5 -> 3 (nearest picks 0, 1, 3; nearest-exact
# 0, 2, 4), with batch 1.
for mode in ("nearest", "nearest-exact", "linear"):
    interpolate(f"{mode} 5 -> 3", (1, 1, 5), mode, size=[3])
interpolate("linear ramp x2", (1, 1, 4), "linear", scale_factor=[2.0])
interpolate("linear ramp x2", (1, 1, 4), "linear", scale_factor=[2.0], align_corners=True)

# A 1x1 input, and odd sizes.
for mode in ("nearest", "nearest-exact", "bilinear", "bicubic"):
    for align in align_options(mode):
        interpolate("1x1 input", (1, 3, 1, 1), mode, **with_align(mode, align, {"size": [3, 4]}))
        interpolate("odd sizes 5x7 -> 9x4", (1, 1, 5, 7), mode,
                    **with_align(mode, align, {"size": [9, 4]}))
interpolate("1x1x1 input", (1, 2, 1, 1, 1), "trilinear", size=[2, 3, 2])
interpolate("1x1x1 input", (1, 2, 1, 1, 1), "nearest", scale_factor=[2.0, 1.0, 3.0])

# Dims whose size does not change under a scale_factor other than 1: PyTorch's linear kernels
# copy them; nearest and bicubic apply 1 / scale_factor; nearest also where out == 2 * in.
interpolate("unchanged H", (1, 2, 4, 5), "bilinear", scale_factor=[1.2, 1.5])
interpolate("unchanged L", (1, 2, 4), "linear", scale_factor=[1.2])
interpolate("unchanged D", (1, 1, 4, 3, 2), "trilinear", scale_factor=[1.2, 2.0, 1.5])
interpolate("unchanged size", (1, 1, 4, 4), "bicubic", scale_factor=[1.2])
interpolate("unchanged size", (1, 1, 4, 4), "bicubic", scale_factor=[1.2], align_corners=True)
interpolate("unchanged size", (1, 2, 4), "nearest", scale_factor=[1.2])
interpolate("3 x 2.3 -> 6", (1, 2, 3), "nearest", scale_factor=[2.3])
interpolate("unchanged size", (1, 2, 4), "nearest-exact", scale_factor=[1.2])
# Sources on a pixel boundary. PyTorch's float32 forward picks another pixel than its float64 one at
# 26 -> 22 (nearest), 14 -> 23 and 16 x 2.3 (nearest-exact); the double-precision position is just
# below the boundary, and its rounding to single precision picks the pixel, at 11 x 3.7 (nearest:
# 37 / 3.7 = 10), 6 -> 47 and 6 x 3.7 (nearest-exact).
interpolate("boundary source", (1, 1, 26), "nearest", size=[22])
interpolate("boundary source", (1, 1, 11), "nearest", scale_factor=[3.7])
interpolate("boundary source", (1, 1, 14), "nearest-exact", size=[23])
interpolate("boundary source", (1, 1, 16), "nearest-exact", scale_factor=[2.3])
interpolate("boundary source", (1, 1, 6), "nearest-exact", size=[47])
interpolate("boundary source", (1, 1, 6), "nearest-exact", scale_factor=[3.7])

g.write("interpolate.json")
