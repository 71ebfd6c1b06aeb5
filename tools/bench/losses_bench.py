#!/usr/bin/python3
"""Times the losses plugin's fused margin softmax in pcv against the PyTorch way of writing it
(normalize + linear + margin + cross-entropy, with autograd; OpenBLAS), in one run, and prints
the table with the memory each forward + backward step needs.

    tools/bench/losses_bench.py [--pcv-bench build/bin/pcv_bench_ops] [--threads 2] [--reps 10]

The shapes are tools/bench/losses_cases.json.
"""
import math

import op_bench


def torch_call(torch, case):
    """loss(x, W, y) as a PyTorch user writes ArcFace (with insightface's th/mm fallback) or CosFace."""
    F = torch.nn.functional
    a = case["attrs"]
    kind = a.get("loss", "arcface")
    s = a.get("scale", 64.0)

    def loss(x, w, y):
        cos = F.linear(F.normalize(x), F.normalize(w)).clamp(-1, 1)
        target = cos.gather(1, y[:, None])
        if kind == "arcface":
            m = a.get("margin", 0.5)
            sin = (1 - target * target).clamp_min(0).sqrt()
            margin = torch.where(target > math.cos(math.pi - m), target * math.cos(m) - sin * math.sin(m),
                                 target - m * math.sin(m))
        elif kind == "cosface":
            margin = target - a.get("margin", 0.35)
        else:
            raise SystemExit(f"losses_bench: no PyTorch mapping for loss '{kind}'")
        logits = cos.scatter(1, y[:, None], margin) * s
        return F.cross_entropy(logits, y)

    return loss


if __name__ == "__main__":
    op_bench.main(__doc__, op_bench.HERE / "losses_cases.json", torch_call)
