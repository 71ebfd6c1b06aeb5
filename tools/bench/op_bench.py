"""Shared parts of the tools/bench/<family>_bench.py scripts: run pcv's Google Benchmark program
on a cases file, time PyTorch on the same shapes in this process, and print one table with the
ratio and, for ops with a FLOP count, GFLOP/s against this CPU's peak (measured by
pcv_bench_ops with register-only FMA chains: the clock a VM reports is nominal). For forward +
backward it also prints the memory the step needs: the peak resident set while it runs minus
what was resident before (inputs and weights), for each side in its own process.

A family script supplies torch_call(torch, case) (a function of the inputs applying the op as
PyTorch does) and calls main(). Timing: pcv's side is the median of Google Benchmark's
repetitions; PyTorch's the median of --reps runs after warm-up, forward under no_grad, and
forward + backward with gradients of every input and parameter. "ratio" is pcv's time over
PyTorch's: below 1 means pcv is faster.
"""
import argparse
import json
import math
import os
import pathlib
import re
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
        sys.exit("bench: PyTorch is missing: run scripts/setup-deps --tools (Debian python3-torch), "
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


def forward_flops(case):
    """2 x multiply-adds of one forward call, for convolutions and linear layers; else None."""
    op = case["op"].split(".", 1)[1]
    shapes = case["inputs"]
    groups = case["attrs"].get("groups", 1)
    if op.startswith("conv_transpose"):  # every input element meets C_out/g x k weights
        x, w = shapes[0], shapes[1]
        return 2 * math.prod(x) * (w[1]) * math.prod(w[2:])
    if op.startswith("conv"):
        x, w = shapes[0], shapes[1]
        a = case["attrs"]
        out = 1
        for d, size in enumerate(x[2:]):
            pick = lambda key, default: (a.get(key, [default]) * 3)[d] if len(a.get(key, [default])) == 1 else a[key][d]  # noqa: E731
            k = w[2 + d]
            extent = pick("dilation", 1) * (k - 1) + 1
            out *= (size + 2 * pick("padding", 0) - extent) // pick("stride", 1) + 1
        return 2 * x[0] * w[0] * out * (x[1] // groups) * math.prod(w[2:])
    if op == "linear":
        x, w = shapes[0], shapes[1]
        return 2 * math.prod(x[:-1]) * w[0] * w[1]
    return None


def median_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def reset_peak_memory():
    """Resets this process's peak resident set (Linux); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def status_mb(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return None


def time_torch(torch, call, case, reps):
    """(forward ms, forward+backward ms, MB the op needs above the inputs: the peak resident set
    over the forward and forward+backward timings minus what was resident before them)."""
    labels = {int(i): n for i, n in case.get("labels", {}).items()}
    inputs = [torch.randint(0, labels[i], tuple(shape)) if i in labels else torch.randn(*shape)
              for i, shape in enumerate(case["inputs"])]
    for i in case.get("positive", []):
        inputs[i] = inputs[i].abs() + 0.5
    measured = reset_peak_memory()
    before = status_mb("VmRSS")
    with torch.no_grad():
        forward = median_ms(lambda: call(*inputs), reps)
    state = set(case.get("state", [])) | set(labels)
    grad_inputs = [t.clone().requires_grad_(i not in state) for i, t in enumerate(inputs)]
    dy = torch.randn_like(call(*grad_inputs))

    def step():
        for t in grad_inputs:
            t.grad = None
        call(*grad_inputs).backward(dy)

    both = median_ms(step, reps)
    peak = status_mb("VmHWM") - before if measured and before is not None else None
    return forward, both, peak


def pcv_peak_mb(binary, cases_file, threads, name):
    """The memory pcv's forward + backward of one case needs, measured alone in a fresh process."""
    env = dict(os.environ, PCV_NUM_THREADS=str(threads))
    # Google Benchmark's regex: escape the metacharacters only (re.escape also escapes spaces).
    pattern = "^" + re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name) + "/forward\\+backward"
    out = subprocess.run([binary, str(cases_file), "--benchmark_format=json", f"--benchmark_filter={pattern}",
                          "--benchmark_min_time=0.01"], env=env, check=True, capture_output=True, text=True).stdout
    runs = json.loads(out)["benchmarks"]
    return runs[0].get("peak_mb") if runs else None


def time_pcv(binary, cases_file, threads, reps):
    env = dict(os.environ, PCV_NUM_THREADS=str(threads))
    out = subprocess.run([binary, str(cases_file), "--benchmark_format=json", f"--benchmark_repetitions={reps}",
                          "--benchmark_report_aggregates_only=true"],
                         env=env, check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]
        name = b["run_name"].split("/min_time:")[0].removesuffix("/real_time")
        results[name] = b["real_time"] * scale
        if "gflops" in b:
            results[name + " GFLOP/s"] = b["gflops"]
    return results


def main(description, cases_file, torch_call):
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcv-bench", default=str(REPO / "build/bin/pcv_bench_ops"))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("PCV_NUM_THREADS", os.cpu_count() or 1)))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--memory", action="store_true",
                    help="also measure pcv's forward+backward memory, one fresh process per case")
    args = ap.parse_args()
    if not pathlib.Path(args.pcv_bench).exists():
        sys.exit(f"bench: {args.pcv_bench} does not exist: build it with `make bench`")
    torch = torch_module()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    spec = json.loads(pathlib.Path(cases_file).read_text())
    cases = spec["cases"]

    ours = time_pcv(args.pcv_bench, cases_file, args.threads, 5)
    torch.randn(64, 64) @ torch.randn(64, 64)
    # pcv_bench_ops measures it: register-only vector FMA chains on every thread.
    peak = ours.get("peak/fma float32 GFLOP/s")
    print(f"# PyTorch {torch.__version__} with {loaded_blas()}, oneDNN {torch.backends.mkldnn.is_available()}; "
          f"{args.threads} threads; {os.uname().machine}; load average {os.getloadavg()[0]:.2f}")
    if peak:
        print(f"# this CPU's float32 peak on {args.threads} threads, measured with FMA chains: {peak:.0f} GFLOP/s")
    rows = [("op", "shapes", "pass", "pcv ms", "PyTorch ms", "ratio", "pcv GFLOP/s", "torch GFLOP/s", "pcv % peak",
             "pcv MB", "torch MB")]
    for case in cases:
        fwd, fwd_bwd, torch_mb = time_torch(torch, torch_call(torch, case), case, args.reps)
        pcv_mb = pcv_peak_mb(args.pcv_bench, cases_file, args.threads, case["name"]) if args.memory else None
        shapes = " ".join("x".join(map(str, s)) for s in case["inputs"][:2])
        flops = forward_flops(case)
        for name, theirs, factor in (("forward", fwd, 1), ("forward+backward", fwd_bwd, 3)):
            mine = ours.get(f"{case['name']}/{name}")
            ratio = f"{mine / theirs:.2f}" if mine else "-"
            rate = lambda ms: f"{flops * factor / ms / 1e6:.1f}" if flops and ms else "-"  # noqa: E731
            share = f"{flops * factor / mine / 1e6 / peak * 100:.0f}%" if flops and mine and peak else "-"
            mb = lambda v: f"{v:.0f}" if v is not None and factor == 3 else "-"  # noqa: E731
            rows.append((case["name"], shapes, name, f"{mine:.2f}" if mine else "-", f"{theirs:.2f}", ratio,
                         rate(mine), rate(theirs), share, mb(pcv_mb), mb(torch_mb)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    direct = ours.get("dispatch/direct C++ call")
    for kind in ("Kernel::forward", "Kernel::forward_into"):
        through = ours.get(f"dispatch/{kind}")
        if direct is not None and through is not None:
            print(f"# dispatch overhead through the ABI ({kind}, nn.add on 1 element): "
                  f"{(through - direct) * 1e3:.3f} us per call (direct call {direct * 1e6:.0f} ns)")
