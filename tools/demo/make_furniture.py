#!/usr/bin/python3
"""Writes data/demo/furniture/*.xyz: synthetic pieces of furniture (a table, a chair, a bed, a
monitor, a desk), each a union of boxes with 1024 points drawn uniformly over their surfaces,
z up and turned as ModelNet's are. They are made here, free of any licence, for `make demo` to classify with the
shipped ModelNet10 PointConv model (data/models/pointconv_cls_mn10.safetensors). Needs NumPy.
"""
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "data/demo/furniture"
POINTS = 1024
rng = np.random.default_rng(7)


def box(lo, hi):
    return np.asarray(lo, float), np.asarray(hi, float)


def sample_boxes(boxes, n):
    """n points uniformly over the surfaces of the boxes (by area)."""
    faces = []
    for lo, hi in boxes:
        size = hi - lo
        for axis in range(3):
            a, b = [d for d in range(3) if d != axis]
            for side in (lo[axis], hi[axis]):
                faces.append((axis, side, a, b, lo, size, size[a] * size[b]))
    areas = np.array([f[-1] for f in faces])
    picks = rng.choice(len(faces), size=n, p=areas / areas.sum())
    points = np.empty((n, 3))
    for i, k in enumerate(picks):
        axis, side, a, b, lo, size, _ = faces[k]
        points[i, axis] = side
        points[i, a] = lo[a] + rng.uniform() * size[a]
        points[i, b] = lo[b] + rng.uniform() * size[b]
    return points


def legs(x0, x1, y0, y1, height, t=0.05):
    return [box((x, y, 0), (x + t, y + t, height)) for x in (x0, x1 - t) for y in (y0, y1 - t)]


SHAPES = {
    "table": [box((0, 0, 0.72), (1.6, 0.9, 0.76))] + legs(0.05, 1.55, 0.05, 0.85, 0.72),
    "chair": [box((0, 0, 0.43), (0.46, 0.46, 0.47)), box((0, 0.42, 0.47), (0.46, 0.46, 0.95))]
    + legs(0, 0.46, 0, 0.46, 0.43, 0.04),
    "bed": [box((0, 0, 0.2), (1.5, 2.0, 0.5)), box((0, 1.95, 0), (1.5, 2.05, 1.0))] + legs(0, 1.5, 0, 1.95, 0.2, 0.08),
    "monitor": [box((0, 0, 0.15), (0.56, 0.06, 0.5)), box((0.25, 0.06, 0.02), (0.31, 0.1, 0.2)),
                box((0.13, -0.04, 0), (0.43, 0.2, 0.02))],
    "desk": [box((0, 0, 0.72), (1.4, 0.7, 0.75)), box((0, 0.05, 0), (0.4, 0.7, 0.72))] + legs(1.3, 1.4, 0, 0.7, 0.72),
}


# Built facing y; ModelNet's monitors, desks and tables face x (a screen's thin side along x).
FACING_X = {"monitor", "desk", "table"}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, parts in SHAPES.items():
        points = sample_boxes(parts, POINTS)
        if name in FACING_X:  # ModelNet's orientation for these: x and y swapped
            points = points[:, [1, 0, 2]]
        np.savetxt(OUT / f"{name}.xyz", points, fmt="%.4f")
    print(f"wrote {len(SHAPES)} clouds to {OUT}")


if __name__ == "__main__":
    main()
