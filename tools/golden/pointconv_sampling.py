#!/usr/bin/python3
"""Golden cases for pointconv.farthest_point_sample and pointconv.knn
-> tests/data/golden/pointconv/sampling.json.

The rules of the official PointConv PyTorch code (../shared/reference/pointconv.md §1.1-1.2),
written here in float64: FPS starts at point 0 and takes the first maximum of the running
minimum squared distance (torch.max / np.argmax); kNN sorts by squared distance with a stable
sort, so ties go to the lower index and a centre that is one of the points finds itself first.
Cases: batches of 1 and 3, odd sizes, npoint = 1 and = N, k = 1 and = N, clouds on a grid (many
exact ties), a cloud with duplicate points (as many distinct points as npoint), and centres
that are FPS picks of the cloud (the layer's use).
"""
import torch

from common import Golden

g = Golden(__file__, seed=3001, plugin="pointconv")


def fps(xyz, npoint):
    out = []
    for cloud in xyz:
        nearest = torch.full((cloud.shape[0],), float("inf"), dtype=cloud.dtype)
        far, picks = 0, []
        for _ in range(npoint):
            picks.append(far)
            nearest = torch.minimum(nearest, ((cloud - cloud[far]) ** 2).sum(-1))
            far = int(torch.argmax(nearest))  # the first maximum
        out.append(picks)
    return torch.tensor(out, dtype=torch.int64)


def knn(xyz, centres, k):
    d2 = ((centres[:, :, None, :] - xyz[:, None, :, :]) ** 2).sum(-1)
    return torch.sort(d2, dim=-1, stable=True).indices[:, :, :k]


def grid_cloud(b, side):
    """Points on an integer grid, shuffled: every distance is tied many times."""
    axis = torch.arange(side, dtype=torch.float64)
    pts = torch.cartesian_prod(axis, axis, axis)
    return torch.stack([pts[torch.randperm(len(pts), generator=torch.Generator().manual_seed(i))]
                        for i in range(b)])


def fps_case(what, xyz, npoint):
    g.case(f"farthest_point_sample {what}: xyz {list(xyz.shape)}, npoint {npoint}",
           "pointconv.farthest_point_sample", lambda x: fps(x, npoint), [xyz], {"npoint": npoint},
           constant=(0,))


def knn_case(what, xyz, centres, k):
    g.case(f"knn {what}: xyz {list(xyz.shape)}, centres {list(centres.shape)}, k {k}", "pointconv.knn",
           lambda x, c: knn(x, c, k), [xyz, centres], {"k": k}, constant=(0, 1))


random3 = g.randn(3, 37, 3)
fps_case("random", random3, 11)
fps_case("npoint 1", random3, 1)
fps_case("npoint = N", g.randn(1, 9, 3), 9)
fps_case("grid (ties)", grid_cloud(2, 3), 10)
dup = g.randn(1, 5, 3)
fps_case("duplicates, as many distinct points as npoint", torch.cat([dup, dup, dup], dim=1), 5)

picks = fps(random3, 11)
centres = torch.stack([random3[b][picks[b]] for b in range(3)])
knn_case("centres are FPS picks (each finds itself first)", random3, centres, 8)
knn_case("k 1", random3, g.randn(3, 4, 3), 1)
knn_case("k = N", g.randn(2, 6, 3), g.randn(2, 3, 3), 6)
grid = grid_cloud(1, 3)
knn_case("grid (ties by index)", grid, grid[:, :7], 9)

g.write("sampling.json")
