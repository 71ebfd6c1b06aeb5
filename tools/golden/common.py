"""Shared helpers for the golden-file generators of the nn plugin (see README.md here).

A generator builds a `Golden`, adds cases with `Golden.case` and calls `Golden.write`. A case is
described by its inputs and a PyTorch function of them; the outputs, the gradients of
L = sum_k sum(outputs_k * grad_outputs_k) with respect to the inputs, and any state the function
updates in place are all computed here, in float64.
"""
import json
import pathlib

import numpy as np
import torch

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO / "tests/data/golden"

DTYPES = {torch.float64: "float64", torch.int64: "int64", torch.uint8: "uint8"}

# Inputs and output gradients are rounded to this many decimals: their JSON text stays short
# (the files are checked in), and every value is still exactly what the C++ side parses.
INPUT_DECIMALS = 4

torch.set_default_dtype(torch.float64)


def tensor_json(t):
    """The JSON form of a tensor: shape, dtype and its values flattened in row-major order."""
    t = t.detach()
    if t.dtype not in DTYPES:
        raise TypeError(f"no golden dtype for {t.dtype}")
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "data": t.reshape(-1).tolist()}


def _is_float(t):
    return t is not None and t.is_floating_point()


class Golden:
    """Collects the cases of one golden file; all random values come from one seeded generator."""

    def __init__(self, generator_file, seed, plugin="nn"):
        """Cases of `plugin`'s ops, written under tests/data/golden/<plugin>/."""
        self.out_dir = GOLDEN_DIR / plugin
        self.generator = pathlib.Path(generator_file).resolve().relative_to(REPO).as_posix()
        self.rng = np.random.default_rng(seed)
        self.cases = []

    # -- inputs -------------------------------------------------------------------------------

    @staticmethod
    def rounded(t):
        """t rounded to INPUT_DECIMALS, for inputs computed from random ones."""
        return torch.from_numpy(np.asarray(np.round(t.numpy(), INPUT_DECIMALS)))

    def randn(self, *shape, scale=1.0):
        """Normal float64 values with standard deviation `scale` (rounded, see INPUT_DECIMALS)."""
        x = np.round(self.rng.standard_normal(shape) * scale, INPUT_DECIMALS)
        return torch.from_numpy(np.asarray(x))

    def randn_away_from(self, shape, kinks=(0.0,), gap=1e-3, scale=1.0):
        """Like randn, but no value lies within `gap` of a kink, so that float32 rounding cannot
        move a value across it."""
        x = self.randn(*shape, scale=scale).numpy()
        for k in kinks:
            near = np.abs(x - k) < gap
            x = np.where(near, np.where(x >= k, k + 2 * gap, k - 2 * gap), x)
        return torch.from_numpy(np.asarray(np.round(x, INPUT_DECIMALS)))

    def distinct(self, *shape):
        """Pairwise distinct values, randomly placed, spread over about [-2, 2] but at least 1e-3
        apart: a max over any window has a unique argmax, in float32 as well."""
        n = int(np.prod(shape, dtype=np.int64))
        spacing = next(s for s in (1e-2, 5e-3, 2e-3, 1e-3) if n * s <= 4) if n <= 4000 else 1e-3
        values = (self.rng.permutation(n) - (n - 1) // 2) * spacing
        return torch.from_numpy(np.round(values, 6).reshape(shape))

    def randint(self, low, high, shape):
        """int64 values in [low, high)."""
        return torch.from_numpy(self.rng.integers(low, high, size=shape, dtype=np.int64))

    # -- cases --------------------------------------------------------------------------------

    def case(self, name, op, fn, inputs, attrs=None, training=False, constant=(), state=()):
        """Adds one case.

        fn(*inputs) returns one tensor or a tuple of them (the op's outputs in README order).
        `constant` lists indices of floating-point inputs that are not differentiated (their
        grad_inputs entry is null); `state` lists indices of inputs that fn updates in place, whose
        values after the call go to state_after (they are implicitly constant).
        """
        constant = set(constant) | set(state)
        inputs_json = [None if t is None else tensor_json(t) for t in inputs]

        args = []
        for i, t in enumerate(inputs):
            if t is None:
                args.append(None)
                continue
            t = t.detach().clone()
            if _is_float(t) and i not in constant:
                t.requires_grad_(True)
            args.append(t)

        outputs = fn(*args)
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)

        grad_outputs = []
        loss = torch.zeros(())
        for y in outputs:
            if y.is_floating_point():
                g = self.randn(*y.shape)
                loss = loss + (y * g).sum()
            else:
                g = torch.zeros_like(y)
            grad_outputs.append(g)

        wrt = [i for i, t in enumerate(args) if t is not None and t.requires_grad]
        grads = {}
        if wrt and loss.requires_grad:
            found = torch.autograd.grad(loss, [args[i] for i in wrt], allow_unused=True)
            grads = dict(zip(wrt, found))
        grad_inputs = []
        for i, t in enumerate(args):
            if i not in wrt:
                grad_inputs.append(None)
            else:
                g = grads.get(i)
                grad_inputs.append(tensor_json(torch.zeros_like(t) if g is None else g))

        case = {"name": name, "op": op}
        if attrs:
            case["attrs"] = attrs
        if training:
            case["training"] = True
        case["inputs"] = inputs_json
        case["outputs"] = [tensor_json(y) for y in outputs]
        case["grad_outputs"] = [tensor_json(g) for g in grad_outputs]
        case["grad_inputs"] = grad_inputs
        if state:
            case["state_after"] = {str(i): tensor_json(args[i]) for i in sorted(state)}
        self.cases.append(case)

    def write(self, filename):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / filename
        text = json.dumps({"generator": self.generator, "cases": self.cases},
                          separators=(",", ":"), allow_nan=False)
        path.write_text(text + "\n")
        print(f"{path.relative_to(REPO)}: {len(self.cases)} cases, {len(text) + 1} bytes")
