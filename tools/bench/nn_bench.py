#!/usr/bin/python3
"""Times nn ops in pcv and in PyTorch (CPU) on the same shapes, in one run, and prints a table.

    tools/bench/nn_bench.py [--pcv-bench build/bin/pcv_bench_nn] [--threads 2] [--reps 10]

The shapes are tools/bench/nn_cases.json. pcv's side is the Google Benchmark program
bench/nn_bench.cpp (median wall time of its repetitions); PyTorch's is timed here: forward under
no_grad, and forward + backward with gradients of every input and parameter, median of --reps
runs after warm-up. "ratio" is pcv's time over PyTorch's: below 1 means pcv is faster.
Debian's torch uses the libblas.so.3 alternative; this script reports which BLAS it loaded, since
the fair baseline is OpenBLAS (not the netlib reference BLAS).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]


def torch_module():
    try:
        import torch
    except ImportError:
        sys.exit("nn_bench: PyTorch is missing: run scripts/setup-deps --tools (Debian python3-torch), "
                 "and use /usr/bin/python3")
    return torch


def loaded_blas():
    """Which BLAS this process mapped (after torch ran a GEMM)."""
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    names = sorted(pathlib.Path(p).resolve().as_posix() for p in libs)
    if any("openblas" in n for n in names):
        return "OpenBLAS"
    return "netlib reference BLAS (slow: install libopenblas0 for a fair baseline)" if names else "unknown"


def torch_call(torch, case):
    """A function of the inputs that applies the op as PyTorch does."""
    F = torch.nn.functional
    a = case["attrs"]
    op = case["op"].split(".", 1)[1]
    spatial = lambda key, default: tuple(a.get(key, default)) if len(a.get(key, default)) > 1 else a.get(key, default)[0]
    if op.startswith("conv"):
        fn = getattr(F, op)
        return lambda x, w, b: fn(x, w, b, stride=spatial("stride", [1]), padding=spatial("padding", [0]),
                                  dilation=spatial("dilation", [1]), groups=a.get("groups", 1))
    if op == "linear":
        return F.linear
    if op == "batch_norm":
        training = case.get("training", False)
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


def median_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def time_torch(torch, case, reps):
    call = torch_call(torch, case)
    inputs = [torch.randn(*shape) for shape in case["inputs"]]
    for i in case.get("positive", []):
        inputs[i] = inputs[i].abs() + 0.5
    with torch.no_grad():
        forward = median_ms(lambda: call(*inputs), reps)
    state = {3, 4} if case["op"] == "nn.batch_norm" else set()
    grad_inputs = [t.clone().requires_grad_(i not in state) for i, t in enumerate(inputs)]
    dy = torch.randn_like(call(*grad_inputs))

    def step():
        for t in grad_inputs:
            t.grad = None
        call(*grad_inputs).backward(dy)

    return forward, median_ms(step, reps)


def time_pcv(binary, threads, reps):
    env = dict(os.environ, PCV_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_repetitions={reps}",
                          "--benchmark_report_aggregates_only=true"],
                         env=env, check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]
        name = b["run_name"].split("/min_time:")[0].removesuffix("/real_time")
        results[name] = b["real_time"] * scale
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcv-bench", default=str(REPO / "build/bin/pcv_bench_nn"))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("PCV_NUM_THREADS", os.cpu_count() or 1)))
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    if not pathlib.Path(args.pcv_bench).exists():
        sys.exit(f"nn_bench: {args.pcv_bench} does not exist: build it with `make bench`")
    torch = torch_module()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = json.loads((HERE / "nn_cases.json").read_text())["cases"]

    ours = time_pcv(args.pcv_bench, args.threads, 5)
    torch.randn(64, 64) @ torch.randn(64, 64)
    print(f"# PyTorch {torch.__version__} with {loaded_blas()}, oneDNN {torch.backends.mkldnn.is_available()}; "
          f"{args.threads} threads; {os.uname().machine}; load average {os.getloadavg()[0]:.2f}")
    rows = [("op", "shapes", "pass", "pcv ms", "PyTorch ms", "ratio")]
    for case in cases:
        fwd, fwd_bwd = time_torch(torch, case, args.reps)
        shapes = " ".join("x".join(map(str, s)) for s in case["inputs"][:2])
        for name, theirs in (("forward", fwd), ("forward+backward", fwd_bwd)):
            mine = ours.get(f"{case['name']}/{name}")
            ratio = f"{mine / theirs:.2f}" if mine else "-"
            rows.append((case["name"], shapes, name, f"{mine:.2f}" if mine else "-", f"{theirs:.2f}", ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    direct = ours.get("dispatch/direct C++ call")
    for kind in ("Kernel::forward", "Kernel::forward_into"):
        through = ours.get(f"dispatch/{kind}")
        if direct is not None and through is not None:
            print(f"# dispatch overhead through the ABI ({kind}, nn.add on 1 element): "
                  f"{(through - direct) * 1e3:.3f} us per call (direct call {direct * 1e6:.0f} ns)")


if __name__ == "__main__":
    main()
