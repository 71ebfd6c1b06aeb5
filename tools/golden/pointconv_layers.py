#!/usr/bin/python3
"""Golden cases for the pointconv plugin's layer ops -> tests/data/golden/pointconv/layers.json:
gather_points, group, centroid, density (both modes), density_scale, aggregate, knn_interpolate
and ball_query, forward and (where differentiable) backward, in float64.

Semantics from ../shared/reference/pointconv.md §1.2-1.7 (the official PyTorch code, and the TF
original for ball queries, the ball KDE and feature propagation). Random clouds are drawn so that
float32 rounding cannot flip a neighbour: no pair's squared distance lies within 1e-4 of a ball
radius², and the k-th and (k+1)-th interpolation distances are at least 1e-4 apart.
"""
import math

import torch

from common import Golden

g = Golden(__file__, seed=3002, plugin="pointconv")


def gather(x, idx):
    return torch.stack([x[b][idx[b]] for b in range(x.shape[0])])


def group(xyz, centres, idx, feats):
    pts = gather(xyz, idx) if idx is not None else xyz[:, None].expand(-1, centres.shape[1], -1, -1)
    rel = pts - centres[:, :, None, :]
    if feats is None:
        return rel, rel.clone()
    f = gather(feats, idx) if idx is not None else feats[:, None].expand(-1, centres.shape[1], -1, -1)
    return rel, torch.cat([rel, f], dim=-1)


def sqdist(a, b):
    return ((a[:, :, None, :] - b[:, None, :, :]) ** 2).sum(-1)


def first_within(xyz, centres, radius, k):
    """Per centre: the first k indices (ascending) with d² < r², as PointNet++ scans."""
    inside = sqdist(centres, xyz) < radius * radius
    out = []
    for b in range(xyz.shape[0]):
        out.append([torch.nonzero(inside[b, s]).flatten()[:k].tolist() for s in range(centres.shape[1])])
    return out


def ball_query(xyz, centres, radius, k):
    found = first_within(xyz, centres, radius, k)
    d2 = sqdist(centres, xyz)
    idx, counts = [], []
    for b, per_centre in enumerate(found):
        rows, cnt = [], []
        for s, f in enumerate(per_centre):
            pad = f[0] if f else int(torch.argmin(d2[b, s]))
            rows.append(f + [pad] * (k - len(f)))
            cnt.append(len(f))
        idx.append(rows)
        counts.append(cnt)
    return torch.tensor(idx, dtype=torch.int64), torch.tensor(counts, dtype=torch.int64)


def density_all_pairs(xyz, h):
    dens = torch.exp(-sqdist(xyz, xyz) / (2 * h * h)).mean(-1) / (2.5 * h)
    return 1 / dens


def density_ball(xyz, sigma, radius, max_neighbours):
    found = first_within(xyz, xyz, radius, max_neighbours)
    d2 = sqdist(xyz, xyz)
    norm = (2 * math.pi * sigma) ** 1.5
    out = [[torch.exp(-d2[b, i, f] / (2 * sigma)).sum() / norm / len(f) for i, f in enumerate(rows)]
           for b, rows in enumerate(found)]
    return 1 / torch.tensor(out)


def density_scale(inverse, idx):
    grouped = gather(inverse[..., None], idx) if idx is not None else inverse[:, None, :, None]
    return grouped / grouped.max(dim=2, keepdim=True).values


def aggregate(x, w, scale):
    xs = x * scale if scale is not None else x
    y = torch.einsum("bskc,bskm->bscm", xs, w)
    return y.reshape(y.shape[0], y.shape[1], -1)


def knn_interpolate(xyz, sparse, feats, k):
    d2 = sqdist(xyz, sparse)
    order = torch.sort(d2, dim=-1, stable=True)
    idx, dk = order.indices[..., :k], order.values[..., :k]
    w = 1 / dk.clamp(min=1e-10)
    w = w / w.sum(-1, keepdim=True)
    return (gather(feats, idx) * w[..., None]).sum(2)


def cloud_clear_of(b, n, radius, scale=1.0):
    """A random cloud whose pairwise squared distances all stay 1e-4 away from radius²."""
    while True:
        xyz = g.randn(b, n, 3, scale=scale)
        if not ((sqdist(xyz, xyz) - radius * radius).abs() < 1e-4).any():
            return xyz


def sparse_clear_for(xyz, s, k):
    """Sparse points where every dense point's k-th and (k+1)-th distances differ by 1e-4 or more."""
    while True:
        sparse = g.randn(xyz.shape[0], s, 3)
        d = torch.sort(sqdist(xyz, sparse), dim=-1).values
        if s == k or ((d[..., k] - d[..., k - 1]) > 1e-4).all():
            return sparse


# gather_points: [B, S] and [B, S, K] indices, repeats (the gradient adds up).
x = g.randn(2, 7, 4)
g.case("gather_points [B, S] indices with repeats", "pointconv.gather_points", gather,
       [x, torch.tensor([[0, 3, 3, 6], [1, 1, 1, 2]])], constant=(1,))
g.case("gather_points [B, S, K] indices", "pointconv.gather_points", gather, [x, g.randint(0, 7, (2, 3, 5))],
       constant=(1,))

# group: with features, without features, group_all (no indices) around the centroid.
xyz, feats = g.randn(2, 9, 3), g.randn(2, 9, 5)
centres = torch.stack([xyz[0, [0, 4, 7]], xyz[1, [2, 3, 8]]])
g.case("group with features", "pointconv.group", lambda p, c, i, f: group(p, c, i, f),
       [xyz, centres, g.randint(0, 9, (2, 3, 4)), feats], constant=(0, 1, 2))
g.case("group without features", "pointconv.group", lambda p, c, i, f: group(p, c, i, f),
       [xyz, centres, g.randint(0, 9, (2, 3, 4)), None], constant=(0, 1, 2))
centroid = xyz.mean(dim=1, keepdim=True)
g.case("group_all around the centroid", "pointconv.group", lambda p, c, i, f: group(p, c, None, f),
       [xyz, g.rounded(centroid), None, feats], constant=(0, 1))
g.case("centroid", "pointconv.centroid", lambda p: p.mean(dim=1, keepdim=True), [g.randn(3, 5, 3)], constant=(0,))

# density, both modes; the ball mode with a cap below some balls' sizes and a lone point.
cloud = g.randn(2, 40, 3, scale=0.3)
g.case("density all_pairs h 0.1", "pointconv.density", lambda p: density_all_pairs(p, 0.1), [cloud],
       {"mode": "all_pairs", "bandwidth": 0.1}, constant=(0,))
g.case("density all_pairs h 0.4", "pointconv.density", lambda p: density_all_pairs(p, 0.4), [cloud],
       {"mode": "all_pairs", "bandwidth": 0.4}, constant=(0,))
ball_cloud = cloud_clear_of(2, 40, 0.3, scale=0.3)
ball_cloud[1, 0] = torch.tensor([5.0, 5.0, 5.0])  # alone in its ball
g.case("density ball r 0.3 sigma 0.05 max 6", "pointconv.density", lambda p: density_ball(p, 0.05, 0.3, 6),
       [ball_cloud], {"mode": "ball", "bandwidth": 0.05, "radius": 0.3, "max_neighbours": 6}, constant=(0,))
g.case("density ball r 0.3 sigma 0.1 max 128", "pointconv.density", lambda p: density_ball(p, 0.1, 0.3, 128),
       [ball_cloud], {"mode": "ball", "bandwidth": 0.1, "radius": 0.3, "max_neighbours": 128}, constant=(0,))

# density_scale: knn neighbourhoods and the whole cloud.
inverse = g.rounded(density_all_pairs(cloud, 0.2))
g.case("density_scale", "pointconv.density_scale", density_scale, [inverse, g.randint(0, 40, (2, 5, 6))],
       constant=(0, 1))
g.case("density_scale group_all", "pointconv.density_scale", lambda v: density_scale(v, None), [inverse],
       constant=(0,))

# aggregate: with and without the density scale.
g.case("aggregate with scale", "pointconv.aggregate", aggregate,
       [g.randn(2, 3, 5, 4), g.randn(2, 3, 5, 6), g.randn(2, 3, 5, 1)])
g.case("aggregate without scale", "pointconv.aggregate", lambda a, b: aggregate(a, b, None),
       [g.randn(1, 4, 7, 3), g.randn(1, 4, 7, 2)])

# knn_interpolate: k = 3 (PointNet++), k = 1, k = S, and a dense point on a sparse one (d² clamped).
dense = g.randn(2, 11, 3)
sparse = sparse_clear_for(dense, 5, 3)
g.case("knn_interpolate k 3", "pointconv.knn_interpolate", lambda p, s, f: knn_interpolate(p, s, f, 3),
       [dense, sparse, g.randn(2, 5, 4)], {"k": 3}, constant=(0, 1))
on_top = dense.clone()
on_top[0, 0] = sparse[0, 2]
g.case("knn_interpolate k 3, a point on a sparse point", "pointconv.knn_interpolate",
       lambda p, s, f: knn_interpolate(p, s, f, 3), [on_top, sparse, g.randn(2, 5, 4)], {"k": 3},
       constant=(0, 1))
g.case("knn_interpolate k 1", "pointconv.knn_interpolate", lambda p, s, f: knn_interpolate(p, s, f, 1),
       [dense, sparse_clear_for(dense, 4, 1), g.randn(2, 4, 2)], {"k": 1}, constant=(0, 1))
g.case("knn_interpolate k = S", "pointconv.knn_interpolate", lambda p, s, f: knn_interpolate(p, s, f, 3),
       [dense, g.randn(2, 3, 3), g.randn(2, 3, 2)], {"k": 3}, constant=(0, 1))

# ball_query: caps reached and not, padding, an empty ball (nearest point fills it).
bq = cloud_clear_of(2, 30, 0.35, scale=0.3)
bq_centres = torch.cat([bq[:, :4], torch.tensor([[[3.0, 0, 0]], [[0, -2.0, 1]]])], dim=1)
g.case("ball_query r 0.35 k 5", "pointconv.ball_query", lambda p, c: ball_query(p, c, 0.35, 5),
       [bq, bq_centres], {"radius": 0.35, "k": 5}, constant=(0, 1))
g.case("ball_query r 0.35 k 40", "pointconv.ball_query", lambda p, c: ball_query(p, c, 0.35, 40),
       [bq, bq_centres], {"radius": 0.35, "k": 40}, constant=(0, 1))

g.write("layers.json")
