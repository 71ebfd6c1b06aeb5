#!/usr/bin/python3
"""Parity of pcv with the official PointConv PyTorch classifier, through the importer.

    check_pointconv_parity.py --official ~/src/pointconv_pytorch [--clouds DIR] [--batch 8]

Builds the official PointConvDensityClsSsg (40 classes, normals) with PyTorch's initialisation and
randomised BatchNorm statistics, saves its checkpoint, converts it with
import_pointconv_pytorch.py, runs both on the same clouds (eval mode, float32) and compares the
log-probabilities: the largest relative difference must be <= 1e-4. Clouds: the first --batch
files of --clouds (x,y,z,nx,ny,nz text files, e.g. ../shared/data/modelnet40_normals_mini), else
uniform random points with random unit normals.

Needs the official repository (DylanWusee/pointconv_pytorch, commit 4a01ee9) checked out at
--official, Debian's python3-torch, and a built pcv (build/bin/pcv). The official code is only
imported, not changed: the scikit-learn import it no longer needs is stubbed out.
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools/models"))
from pcv_model import read_safetensors, write_safetensors  # noqa: E402


def official_model(path, seed):
    # utils/pointconv_util.py imports sklearn.neighbors.kde, removed from scikit-learn; unused.
    for name in ("sklearn", "sklearn.neighbors", "sklearn.neighbors.kde"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["sklearn.neighbors.kde"].KernelDensity = None
    sys.path.insert(0, str(path))
    from model.pointconv import PointConvDensityClsSsg

    torch.manual_seed(seed)
    model = PointConvDensityClsSsg(num_classes=40)
    with torch.no_grad():  # non-trivial BN statistics, so that eval mode tests them
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def load_clouds(folder, batch, points, rng):
    if folder:
        files = sorted(pathlib.Path(folder).rglob("*.txt"))
        files = [f for f in files if "shape_names" not in f.name][:batch]
        if len(files) < batch:
            sys.exit(f"{folder}: {len(files)} cloud files, --batch asks for {batch}")
        clouds = [np.loadtxt(f, delimiter=",", dtype=np.float32)[:points] for f in files]
        return np.stack(clouds), [f.name for f in files]
    xyz = rng.uniform(-1, 1, (batch, points, 3))
    normals = rng.standard_normal((batch, points, 3))
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    return np.concatenate([xyz, normals], -1).astype(np.float32), [f"random {i}" for i in range(batch)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", required=True, help="checkout of DylanWusee/pointconv_pytorch")
    ap.add_argument("--clouds", help="folder of x,y,z,nx,ny,nz text clouds (1024+ points each)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pcv", default=str(REPO / "build/bin/pcv"))
    a = ap.parse_args()
    if not (pathlib.Path(a.official) / "model/pointconv.py").exists():
        sys.exit(f"{a.official}: not a pointconv_pytorch checkout (no model/pointconv.py)")
    torch.set_num_threads(2)
    model = official_model(a.official, a.seed)
    points, names = load_clouds(a.clouds, a.batch, 1024, np.random.default_rng(a.seed))
    with torch.no_grad():
        x = torch.from_numpy(points).permute(0, 2, 1).contiguous()
        theirs = model(x[:, :3], x[:, 3:]).numpy()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        torch.save({"model_state_dict": model.state_dict()}, tmp / "checkpoint.pth")
        subprocess.run([sys.executable, str(REPO / "tools/models/import_pointconv_pytorch.py"),
                        str(tmp / "checkpoint.pth"), str(tmp / "model.safetensors")], check=True)
        write_safetensors(tmp / "in.safetensors", {"points": points})
        subprocess.run([a.pcv, "run", str(tmp / "model.safetensors"), "--in", str(tmp / "in.safetensors"),
                        "--out", str(tmp / "out.safetensors")], check=True, stdout=subprocess.DEVNULL)
        ours = read_safetensors(tmp / "out.safetensors")["log_probs"]
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-6)
    worst = np.unravel_index(np.argmax(rel), rel.shape)
    print(f"{len(names)} clouds ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})")
    print(f"log-probabilities: max |diff| {np.abs(ours - theirs).max():.3g}, max relative diff {rel.max():.3g} "
          f"(cloud {worst[0]}, class {worst[1]}); argmax agrees on {int((ours.argmax(1) == theirs.argmax(1)).sum())}"
          f"/{len(names)}")
    if rel.max() > 1e-4:
        sys.exit("FAIL: relative difference above 1e-4")
    print("OK: within 1e-4 relative")


if __name__ == "__main__":
    main()
