#!/usr/bin/python3
"""Converts a checkpoint of the official PointConv PyTorch classifier (DylanWusee/pointconv_pytorch,
PointConvDensityClsSsg) into a pcv model file with the same graph (tools/models/pointconv_graphs.py).

    import_pointconv_pytorch.py checkpoint.pth model.safetensors [--labels shape_names.txt]

The checkpoint may be a bare state dict or the training script's {"model_state_dict": ...}. The
class count comes from fc3, normals-or-not from sa1's first convolution (6 or 3 input channels).
Every parameter and BN statistic must be present with the expected shape; anything left over
(other than num_batches_tracked) is an error, so a checkpoint of another model cannot load quietly.
Needs Debian's python3-torch (run with /usr/bin/python3).
"""
import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from pcv_model import write_model  # noqa: E402
from pointconv_graphs import classifier  # noqa: E402


def load_state_dict(path):
    import torch  # only the importer needs it

    checkpoint = torch.load(path, map_location="cpu")
    state = checkpoint.get("model_state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        sys.exit(f"{path}: not a state dict or a checkpoint holding 'model_state_dict'")
    return {k.removeprefix("module."): v.detach().cpu().numpy() for k, v in state.items()}


def convert(state, where):
    """(graph, tensors, preprocessing) for a state dict of PointConvDensityClsSsg."""
    for key in ("fc3.weight", "sa1.mlp_convs.0.weight"):
        if key not in state:
            sys.exit(f"{where}: no '{key}': not a PointConvDensityClsSsg state dict")
    classes = state["fc3.weight"].shape[0]
    in_channel = state["sa1.mlp_convs.0.weight"].shape[1]
    if in_channel not in (3, 6):
        sys.exit(f"{where}: sa1.mlp_convs.0.weight has {in_channel} input channels, expected 6 (xyz + normals) or 3")
    graph, template, preprocessing = classifier(classes, xyz_only=in_channel == 3)
    tensors, problems = {}, []
    for name, want in template.items():
        if name not in state:
            problems.append(f"missing '{name}'")
            continue
        value = state[name]
        if value.ndim == 4 and value.shape[2:] == (1, 1):  # Conv2d 1x1 -> [out, in]
            value = value[:, :, 0, 0]
        if value.shape != want.shape:
            problems.append(f"'{name}' is {list(value.shape)}, expected {list(want.shape)}")
            continue
        tensors[name] = np.ascontiguousarray(value, dtype=np.float32)
    extra = sorted(k for k in state if k not in template and not k.endswith("num_batches_tracked"))
    problems += [f"unexpected '{k}'" for k in extra]
    if problems:
        sys.exit(f"{where}: " + "; ".join(problems))
    return graph, tensors, preprocessing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="a .pth file of PointConvDensityClsSsg")
    ap.add_argument("out", help="the pcv model file to write (.safetensors)")
    ap.add_argument("--labels", help="a text file with one class name per line (modelnet40_shape_names.txt)")
    a = ap.parse_args()
    graph, tensors, preprocessing = convert(load_state_dict(a.checkpoint), a.checkpoint)
    labels = []
    if a.labels:
        labels = [line.strip() for line in open(a.labels) if line.strip()]
        classes = tensors["fc3.weight"].shape[0]
        if len(labels) != classes:
            sys.exit(f"{a.labels}: {len(labels)} names for a model of {classes} classes")
    write_model(a.out, graph, tensors, labels=labels, preprocessing=preprocessing)
    print(f"wrote {a.out}: {len(tensors)} tensors, {'xyz + normals' if preprocessing['normals'] else 'xyz only'}")


if __name__ == "__main__":
    main()
