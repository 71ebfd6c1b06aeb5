#!/usr/bin/python3
"""Times upsample ops in pcv and in PyTorch (CPU) on the same shapes, in one run, and prints a
table with GFLOP/s against this CPU's measured peak.

    tools/bench/upsample_bench.py [--pcv-bench build/bin/pcv_bench_ops] [--threads 2] [--reps 10]

The shapes are tools/bench/upsample_cases.json (the transposed convolutions of
../shared/reference/voxel_multiview_upsample.md section 5). PyTorch runs ConvTranspose on its
im2col + BLAS path, so the header's BLAS line matters: compare against OpenBLAS.
"""
import op_bench


def torch_call(torch, case):
    """A function of the inputs that applies the op as PyTorch does."""
    F = torch.nn.functional
    a = case["attrs"]
    op = case["op"].split(".", 1)[1]
    spatial = lambda key, default: tuple(a.get(key, default)) if len(a.get(key, default)) > 1 else a.get(key, default)[0]  # noqa: E731
    if op.startswith("conv_transpose"):
        fn = getattr(F, op)
        return lambda x, w, b: fn(x, w, b, stride=spatial("stride", [1]), padding=spatial("padding", [0]),
                                  output_padding=spatial("output_padding", [0]),
                                  dilation=spatial("dilation", [1]), groups=a.get("groups", 1))
    if op == "pixel_shuffle":
        return lambda x: F.pixel_shuffle(x, a["upscale_factor"])
    if op == "pixel_unshuffle":
        return lambda x: F.pixel_unshuffle(x, a["downscale_factor"])
    if op == "interpolate":
        mode = a.get("mode", "nearest")
        scale = a.get("scale_factor")
        scale = scale[0] if scale and len(scale) == 1 else tuple(scale) if scale else None
        size = a.get("size")
        size = size[0] if size and len(size) == 1 else tuple(size) if size else None
        align = a.get("align_corners", False) if mode not in ("nearest", "nearest-exact") else None
        return lambda x: F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align)
    raise SystemExit(f"upsample_bench: no PyTorch mapping for {case['op']}")


if __name__ == "__main__":
    op_bench.main(__doc__, op_bench.HERE / "upsample_cases.json", torch_call)
