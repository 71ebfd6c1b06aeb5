#!/usr/bin/python3
"""Writes data/demo/terrain/scene.xyz and scene-ground.xyz: a synthetic airborne LiDAR scan of
120 x 120 m (about one point per square metre, as the urban ISPRS samples) over rolling ground
with a slope, flat-roofed buildings, trees and a few cars; the second file lists the ground points
only. They are made here, free of any licence, for `make demo` and the CLI test to label
(`pcv label`), segment and evaluate with the shipped ground model
(data/models/pointconv_seg_ground.safetensors). Needs NumPy.
"""
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parents[2] / "data/demo/terrain"
SIZE = 120.0
rng = np.random.default_rng(11)


def ground_height(x, y):
    return 0.08 * x + 2.0 * np.sin(x / 23.0) * np.cos(y / 31.0) + 0.6 * np.sin(y / 9.0 + 1.0)


def main():
    n = int(SIZE * SIZE)
    xy = rng.uniform(0, SIZE, size=(n, 2))
    z = ground_height(xy[:, 0], xy[:, 1]) + rng.normal(0, 0.05, n)
    ground = np.ones(n, bool)
    # Buildings: flat roofs 4-14 m above the ground at their centre; the scanner sees the roof.
    for _ in range(7):
        cx, cy = rng.uniform(10, SIZE - 10, 2)
        hx, hy = rng.uniform(5, 14, 2)
        inside = (np.abs(xy[:, 0] - cx) < hx) & (np.abs(xy[:, 1] - cy) < hy)
        z[inside] = ground_height(cx, cy) + rng.uniform(4, 14) + rng.normal(0, 0.03, inside.sum())
        ground[inside] = False
    # Trees: crowns 3-6 m across; 70 % of the pulses inside a crown return from it.
    for _ in range(40):
        cx, cy = rng.uniform(0, SIZE, 2)
        r = rng.uniform(1.5, 3.0)
        top = rng.uniform(6, 15)
        d = np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)
        hit = (d < r) & ground & (rng.uniform(size=n) < 0.7)
        z[hit] = ground_height(xy[hit, 0], xy[hit, 1]) + top - 2.5 * (d[hit] / r) ** 2 - rng.uniform(0, 2, hit.sum())
        ground[hit] = False
    # Cars: 4.5 x 1.8 m, 1.5 m tall.
    for _ in range(12):
        cx, cy = rng.uniform(5, SIZE - 5, 2)
        inside = (np.abs(xy[:, 0] - cx) < 2.25) & (np.abs(xy[:, 1] - cy) < 0.9) & ground
        z[inside] = ground_height(cx, cy) + 1.5 + rng.normal(0, 0.05, inside.sum())
        ground[inside] = False
    points = np.column_stack([xy, z]).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savetxt(OUT / "scene.xyz", points, fmt="%.2f")
    np.savetxt(OUT / "scene-ground.xyz", points[ground], fmt="%.2f")
    print(f"wrote {OUT}/scene.xyz ({n} points) and scene-ground.xyz ({ground.sum()} ground points)")


if __name__ == "__main__":
    main()
