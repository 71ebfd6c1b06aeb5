#!/usr/bin/python3
"""Times nn ops in pcv and in PyTorch (CPU) on the same shapes, in one run, and prints a table.

    tools/bench/nn_bench.py [--pcv-bench build/bin/pcv_bench_ops] [--threads 2] [--reps 10]

The shapes are tools/bench/nn_cases.json; how the timing works: tools/bench/op_bench.py.
Debian's torch uses the libblas.so.3 alternative; the table header says which BLAS it loaded,
since the fair baseline is OpenBLAS (not the netlib reference BLAS).
"""
import op_bench


def torch_call(torch, case):
    """A function of the inputs that applies the op as PyTorch does."""
    F = torch.nn.functional
    a = case["attrs"]
    op = case["op"].split(".", 1)[1]
    spatial = lambda key, default: tuple(a.get(key, default)) if len(a.get(key, default)) > 1 else a.get(key, default)[0]  # noqa: E731
    if op.startswith("conv"):
        fn = getattr(F, op)
        return lambda x, w, b: fn(x, w, b, stride=spatial("stride", [1]), padding=spatial("padding", [0]),
                                  dilation=spatial("dilation", [1]), groups=a.get("groups", 1))
    if op == "linear":
        return F.linear
    if op == "batch_norm":
        training = case.get("training", False)
        if a.get("dim", 1) != 1:  # channels last: PyTorch's channels are dim 1, so move them there
            return lambda x, w, b, m, v: F.batch_norm(x.movedim(-1, 1), m, v, w, b,
                                                      training=training).movedim(1, -1)
        return lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=training)
    if op.startswith("max_pool") or op.startswith("avg_pool"):
        fn = getattr(F, op)
        k = spatial("kernel_size", [1])
        s = spatial("stride", a["kernel_size"]) if a.get("stride") else None
        return lambda x: fn(x, k, s, spatial("padding", [0]))
    if op == "global_max_pool":
        return lambda x: x.amax(dim=tuple(range(2, x.dim())))
    if op == "global_avg_pool":
        return lambda x: x.mean(dim=tuple(range(2, x.dim())))
    raise SystemExit(f"nn_bench: no PyTorch mapping for {case['op']}")


if __name__ == "__main__":
    op_bench.main(__doc__, op_bench.HERE / "nn_cases.json", torch_call)
