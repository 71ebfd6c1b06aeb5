#!/usr/bin/python3
"""Times the pointconv plugin against the official PointConv PyTorch code on this machine, in one run,
each measurement in a fresh process (time: median after a warm-up run; memory: that process's peak
resident set, which for PyTorch includes its ~230 MB runtime, as the reference's anchors do).

    tools/bench/pointconv_bench.py [--pcv build/bin/pcv] [--threads 2] [--official DIR] [--quick]

Rows: farthest point sampling, kNN and the all-pairs density on 16 384 points; the bounded (ball)
density on 250 000 and 1 000 000 points (pcv only: its memory must grow linearly with N); the
ModelNet40 classifier forward, batch 8 x 1024 points with normals, eval mode. The PyTorch side is the
official code when --official names a checkout of DylanWusee/pointconv_pytorch, else
pointconv_torch_reference.py (the same algorithms; bit-identical outputs on the same weights).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tools/models"))


def measure(cmd, env=None):
    """Runs cmd in a fresh process; returns (stdout, its peak memory in MB as the process reports it:
    Linux VmHWM, which starts at exec; ru_maxrss would count this script's own memory too, as the
    child inherits it through fork)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    mb = None
    for line in proc.stdout.splitlines():
        if line.startswith("peak memory:"):
            mb = float(line.split(":")[1].split()[0])
        elif line.startswith("{") and "peak_mb" in line:
            mb = json.loads(line)["peak_mb"]
    return proc.stdout, mb


def peak_mb():
    """This process's VmHWM in MB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


def pcv_median(out):
    for line in out.splitlines():
        if line.startswith("median after the first:"):
            return float(line.split(":")[1].split()[0]) * 1e3
    sys.exit(f"bench: no timing in pcv's output:\n{out}")


# -- the PyTorch side, run as `pointconv_bench.py --torch-child JSON` in its own process -----------

def torch_child(spec):
    import statistics

    import torch

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    if spec.get("official"):
        import types

        for name in ("sklearn", "sklearn.neighbors", "sklearn.neighbors.kde"):  # an import it no longer needs
            sys.modules.setdefault(name, types.ModuleType(name))
        sys.modules["sklearn.neighbors.kde"].KernelDensity = None
        sys.path.insert(0, spec["official"])
        from model.pointconv import PointConvDensityClsSsg as Classifier
        from utils import pointconv_util as ops
    else:
        sys.path.insert(0, str(HERE))
        import pointconv_torch_reference as ops
        Classifier = ops.Classifier
    n = spec["n"]
    xyz = torch.rand(1, n, 3) * 2 - 1
    kind = spec["kind"]
    if kind == "fps":
        f = lambda: ops.farthest_point_sample(xyz, spec["npoint"])  # noqa: E731
    elif kind == "knn":
        f = lambda: ops.knn_point(spec["k"], xyz, xyz[:, :spec["s"]])  # noqa: E731
    elif kind == "density":
        f = lambda: ops.compute_density(xyz, spec["bandwidth"])  # noqa: E731
    elif kind == "train":  # classifier training steps: SGD + momentum, NLL of the log-probabilities
        model = Classifier(40).train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        points = torch.rand(spec["batch"], 3, n) * 2 - 1
        normals = torch.nn.functional.normalize(torch.randn(spec["batch"], 3, n), dim=1)
        labels = torch.randint(0, 40, (spec["batch"],))

        def f():
            opt.zero_grad()
            torch.nn.functional.nll_loss(model(points, normals), labels).backward()
            opt.step()

    else:  # classifier forward, batch of 8 clouds with normals
        model = Classifier(40).eval()
        points = torch.rand(spec["batch"], 3, n) * 2 - 1
        normals = torch.nn.functional.normalize(torch.randn(spec["batch"], 3, n), dim=1)
        f = lambda: model(points, normals)  # noqa: E731
    with torch.set_grad_enabled(kind == "train"):
        f()
        times = []
        for _ in range(spec["reps"]):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
    print(json.dumps({"ms": statistics.median(times) * 1e3, "peak_mb": peak_mb()}))


def torch_side(spec, args):
    spec = {**spec, "threads": args.threads, "official": args.official}
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    out, mb = measure([sys.executable, __file__, "--torch-child", json.dumps(spec)], env)
    return json.loads(out)["ms"], mb


# -- the pcv side ---------------------------------------------------------------------------------

def pcv_op(args, tmp, op, tensors, attrs, reps):
    from pcv_model import write_safetensors

    write_safetensors(tmp / "in.safetensors", tensors)
    cmd = [args.pcv, "--threads", str(args.threads), "op", f"pointconv.{op}", "--in", str(tmp / "in.safetensors"),
           "--out", str(tmp / "out.safetensors"), "--repeat", str(reps + 1)]
    for k, v in attrs.items():
        cmd += ["--attr", f"{k}={json.dumps(v)}"]
    out, mb = measure(cmd)
    return pcv_median(out), mb


TRAIN_BATCH = 16


def pcv_training(args, tmp, tensors, graph, pre, rng):
    """Samples per second of `pcv train` on the classifier: random clouds with normals in two class
    folders, a few steps of one epoch (the rate of log.csv, data loading included)."""
    import numpy as np
    from pcv_model import write_model

    for label in ("c0", "c1"):
        (tmp / "clouds" / label).mkdir(parents=True, exist_ok=True)
        for i in range(TRAIN_BATCH * 2):
            pts = rng.uniform(-1, 1, (1024, 3))
            nrm = rng.standard_normal((1024, 3))
            nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
            np.savetxt(tmp / "clouds" / label / f"{i}.txt", np.concatenate([pts, nrm], -1), fmt="%.5f", delimiter=",")
    write_model(tmp / "train_init.safetensors", graph, tensors, labels=[f"c{i}" for i in range(40)], preprocessing=pre)
    config = {"model": str(tmp / "train_init.safetensors"), "data": {"train": str(tmp / "clouds"),
              "preprocessing": {**pre, "sampling": "first"}},
              "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}, "epochs": 1, "batch_size": TRAIN_BATCH,
              "threads": args.threads, "output_dir": str(tmp / "run")}
    (tmp / "train.json").write_text(json.dumps(config))
    measure([args.pcv, "train", str(tmp / "train.json")])
    header, *rows = (tmp / "run/log.csv").read_text().strip().splitlines()
    return float(rows[-1].split(",")[header.split(",").index("samples_per_second")])


def cloud(n, seed=0):
    import numpy as np

    return np.random.default_rng(seed).uniform(-1, 1, (1, n, 3)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pcv", default=str(REPO / "build/bin/pcv"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--official", help="checkout of DylanWusee/pointconv_pytorch to time instead of the re-implementation")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, no 1M-point row")
    ap.add_argument("--torch-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_child:
        return torch_child(json.loads(args.torch_child))
    if not pathlib.Path(args.pcv).exists():
        sys.exit(f"bench: {args.pcv} not found: build first (make build)")
    reps = 2 if args.quick else 3
    rows = []
    print(f"pointconv bench: {args.threads} threads, PyTorch side: "
          f"{'official checkout ' + args.official if args.official else 'tools/bench/pointconv_torch_reference.py'}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        n = 16384
        xyz = cloud(n)
        op_cases = [
            ("farthest_point_sample N=16384 S=1024", "farthest_point_sample", {"xyz": xyz}, {"npoint": 1024},
             {"kind": "fps", "n": n, "npoint": 1024}),
            ("farthest_point_sample N=16384 S=8192", "farthest_point_sample", {"xyz": xyz}, {"npoint": 8192},
             {"kind": "fps", "n": n, "npoint": 8192}),
            ("knn N=16384 S=8192 K=32", "knn", {"xyz": xyz, "centres": xyz[:, :8192].copy()}, {"k": 32},
             {"kind": "knn", "n": n, "s": 8192, "k": 32}),
            ("knn N=16384 S=16384 K=16", "knn", {"xyz": xyz, "centres": xyz}, {"k": 16},
             {"kind": "knn", "n": n, "s": n, "k": 16}),
            ("density all_pairs N=16384 h=0.1", "density", {"xyz": xyz}, {"bandwidth": 0.1},
             {"kind": "density", "n": n, "bandwidth": 0.1}),
        ]
        for name, op, tensors, attrs, spec in op_cases:
            ours, our_mb = pcv_op(args, tmp, op, tensors, attrs, reps)
            theirs, their_mb = torch_side({**spec, "reps": reps}, args)
            rows.append((name, ours, theirs, our_mb, their_mb))
        for big in ((250_000,) if args.quick else (250_000, 1_000_000)):
            ours, our_mb = pcv_op(args, tmp, "density", {"xyz": cloud(big, 1)},
                                  {"mode": "ball", "bandwidth": 0.0025, "radius": 0.05, "max_neighbours": 128}, 1)
            rows.append((f"density ball N={big:,} r=0.05 (pcv only)", ours, None, our_mb, None))

        from pcv_model import write_safetensors
        from pointconv_graphs import classifier
        import numpy as np

        graph, tensors, pre = classifier(40)
        from pcv_model import write_model

        write_model(tmp / "cls.safetensors", graph, tensors, preprocessing=pre)
        rng = np.random.default_rng(0)
        pts = rng.uniform(-1, 1, (8, 1024, 3))
        nrm = rng.standard_normal((8, 1024, 3))
        nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
        write_safetensors(tmp / "points.safetensors", {"points": np.concatenate([pts, nrm], -1).astype(np.float32)})
        out, our_mb = measure([args.pcv, "--threads", str(args.threads), "run", str(tmp / "cls.safetensors"), "--in",
                               str(tmp / "points.safetensors"), "--out", str(tmp / "y.safetensors"), "--repeat",
                               str(reps + 2)])
        theirs, their_mb = torch_side({"kind": "classifier", "n": 1024, "batch": 8, "reps": reps}, args)
        rows.append(("classifier forward 8 x 1024 + normals", pcv_median(out), theirs, our_mb, their_mb))
        train_rows = (pcv_training(args, tmp, tensors, graph, pre, rng),
                      TRAIN_BATCH * 1e3 / torch_side({"kind": "train", "n": 1024, "batch": TRAIN_BATCH, "reps": reps}, args)[0])

    print(f"\nclassifier training, batch {TRAIN_BATCH} x 1024 points + normals (SGD, momentum 0.9):")
    print(f"  pcv {train_rows[0]:.1f} samples/s, PyTorch {train_rows[1]:.2f} samples/s: {train_rows[0] / train_rows[1]:.1f}x")
    print(f"\n{'case':44} {'pcv ms':>9} {'torch ms':>9} {'speed-up':>9} {'pcv MB':>8} {'torch MB':>9} {'memory':>7}")
    for name, ours, theirs, our_mb, their_mb in rows:
        speed = f"{theirs / ours:8.1f}x" if theirs else "        -"
        mem = f"{our_mb / their_mb:6.2f}x" if their_mb else "      -"
        t = f"{theirs:9.1f}" if theirs else "        -"
        tm = f"{their_mb:9.0f}" if their_mb else "        -"
        print(f"{name:44} {ours:9.1f} {t} {speed} {our_mb:8.0f} {tm} {mem}")
    print("\nspeed-up: PyTorch time / pcv time; memory: pcv peak RSS / PyTorch peak RSS (each in its own process,\n"
          "as it reports its VmHWM)")


if __name__ == "__main__":
    main()
