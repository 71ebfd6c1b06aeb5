"""Writing pcv model files from Python (NumPy only): a .safetensors file whose __metadata__ holds
the graph, labels, preprocessing and format version (see core/include/pcv/model.hpp).

    from pcv_model import write_model
    write_model("m.safetensors", graph, {"fc.weight": array, ...}, labels=["a", "b"],
                preprocessing={"num_points": 1024})

Tensor names follow PyTorch state-dict names, so a state_dict converted with .numpy() can be
written directly.
"""
import json
import os
import struct
import tempfile

import numpy as np

FORMAT_VERSION = "1"
_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int32"): "I32",
           np.dtype("int64"): "I64", np.dtype("uint8"): "U8"}


_NUMPY = {code: dtype.newbyteorder("<") for dtype, code in _DTYPES.items()}


def read_safetensors(path):
    """{name: array} of a .safetensors file (the dtypes above; metadata skipped)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtype=_NUMPY[entry["dtype"]]).reshape(entry["shape"])
    return out


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} and string metadata; the byte buffer starts 64-byte aligned."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    # Wider elements first keeps every tensor aligned to its element size.
    for name, array in sorted(tensors.items(), key=lambda kv: -np.asarray(kv[1]).dtype.itemsize):
        a = np.ascontiguousarray(array)
        if a.dtype not in _DTYPES:
            raise TypeError(f"{name}: dtype {a.dtype} has no pcv equivalent")
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-(8 + len(text))) % 64)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_model(path, graph, tensors, labels=(), preprocessing=None, extra_metadata=None):
    """A pcv model file: graph (dict in the Graph JSON form), tensors, labels, preprocessing, and
    any further __metadata__ entries (strings)."""
    metadata = {
        **(extra_metadata or {}),
        "pcv.format": FORMAT_VERSION,
        "pcv.graph": json.dumps(graph, separators=(",", ":")),
        "pcv.labels": json.dumps(list(labels)),
        "pcv.preprocessing": json.dumps(preprocessing or {}),
    }
    write_safetensors(path, tensors, metadata)


def uniform_init(rng, shape, fan_in):
    """PyTorch's default initialisation of conv/linear weights and biases: U(-1/sqrt(fan_in), +)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)
