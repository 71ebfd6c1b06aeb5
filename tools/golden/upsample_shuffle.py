#!/usr/bin/python3
"""Golden cases for upsample.pixel_shuffle, pixel_unshuffle, voxel_shuffle and voxel_unshuffle
-> tests/data/golden/upsample/shuffle.json.

pixel_(un)shuffle are F.pixel_(un)shuffle. PyTorch has no 3-D version; voxel_(un)shuffle are
written here as the same reshape/permute with three block dims (channel c·r³ + (a·r + i)·r + j
goes to position (d·r + a, h·r + i, w·r + j)). Factors 1, 2 and 3, extra leading batch dims,
odd sizes.
"""
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=2002, plugin="upsample")


def voxel_shuffle(x, r):
    *lead, c, d, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c // r ** 3, r, r, r, d, h, w)
    y = y.permute(*range(n), n, n + 4, n + 1, n + 5, n + 2, n + 6, n + 3)
    return y.reshape(*lead, c // r ** 3, d * r, h * r, w * r)


def voxel_unshuffle(x, r):
    *lead, c, d, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c, d // r, r, h // r, r, w // r, r)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 6, n + 1, n + 3, n + 5)
    return y.reshape(*lead, c * r ** 3, d // r, h // r, w // r)


def case(op, fn, x_shape, r, what=""):
    attr = "downscale_factor" if "unshuffle" in op else "upscale_factor"
    g.case(f"{op} r={r}{what}: x {list(x_shape)}", f"upsample.{op}", lambda x: fn(x, r),
           [g.randn(*x_shape)], {attr: r})


case("pixel_shuffle", F.pixel_shuffle, (2, 8, 3, 5), 2)
case("pixel_shuffle", F.pixel_shuffle, (1, 18, 2, 3), 3)
case("pixel_shuffle", F.pixel_shuffle, (2, 3, 4, 2, 3), 2, ", extra leading dim")
case("pixel_shuffle", F.pixel_shuffle, (3, 5, 2), 1, ", no batch dim")
case("pixel_unshuffle", F.pixel_unshuffle, (2, 3, 4, 6), 2)
case("pixel_unshuffle", F.pixel_unshuffle, (1, 2, 6, 3), 3)
case("pixel_unshuffle", F.pixel_unshuffle, (2, 2, 1, 4, 2), 2, ", extra leading dim")
case("voxel_shuffle", voxel_shuffle, (2, 16, 2, 3, 2), 2)
case("voxel_shuffle", voxel_shuffle, (1, 27, 1, 2, 2), 3)
case("voxel_shuffle", voxel_shuffle, (8, 2, 3, 1), 2, ", no batch dim")
case("voxel_unshuffle", voxel_unshuffle, (2, 3, 4, 2, 6), 2)
case("voxel_unshuffle", voxel_unshuffle, (1, 1, 3, 6, 3), 3)

g.write("shuffle.json")
