#!/usr/bin/python3
"""Golden cases for nn.batch_norm -> tests/data/golden/nn/batch_norm.json.

Input ranks 2 to 5; training mode (batch statistics, running statistics updated in place and
recorded in state_after) and eval mode (running statistics); with and without the affine weight
and bias; without running statistics; non-default eps and momentum.
"""
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1003)

RUNNING_MEAN, RUNNING_VAR = 3, 4


def batch_norm(what, x_shape, training, affine=(True, True), running=True, **attrs):
    c = x_shape[1]
    # Channels get their own offset and scale, so that the statistics differ per channel.
    shift = g.randn(1, c, *[1] * (len(x_shape) - 2), scale=2.0)
    x = g.rounded(g.randn(*x_shape) * (1.5 + shift.abs()) + shift)
    inputs = [
        x,
        g.randn(c) if affine[0] else None,
        g.randn(c) if affine[1] else None,
        g.randn(c) if running else None,
        g.rounded(0.5 + g.randn(c).abs()) if running else None,
    ]
    # Without running statistics the batch statistics are used in eval mode too.
    use_batch_stats = training or not running
    eps = attrs.get("eps", 1e-5)
    momentum = attrs.get("momentum", 0.1)

    def fn(x, weight, bias, running_mean, running_var):
        return F.batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats,
                            momentum, eps)

    mode = "training" if training else "eval"
    g.case(f"batch_norm {mode} x {list(x_shape)} {what}", "nn.batch_norm", fn, inputs, attrs,
           training=training, constant=(RUNNING_MEAN, RUNNING_VAR),
           state=(RUNNING_MEAN, RUNNING_VAR) if training and running else ())


batch_norm("affine", (7, 5), True)
batch_norm("no affine", (6, 3, 5), True, affine=(False, False))
batch_norm("affine", (2, 3, 5, 7), True)
batch_norm("affine", (2, 2, 3, 4, 5), True)
batch_norm("affine, eps 1e-3, momentum 0.3", (3, 4, 7), True, eps=1e-3, momentum=0.3)
batch_norm("weight only, momentum 1", (2, 3, 4, 5), True, affine=(True, False), momentum=1.0)
batch_norm("bias only, momentum 0", (9, 4), True, affine=(False, True), momentum=0.0)
batch_norm("affine, N 1", (1, 3, 11), True)
batch_norm("without running statistics", (2, 3, 5, 3), True, running=False)
batch_norm("without running statistics, no affine", (5, 4), True, affine=(False, False),
           running=False)

batch_norm("affine", (7, 5), False)
batch_norm("no affine", (6, 3, 5), False, affine=(False, False))
batch_norm("affine", (2, 3, 5, 7), False)
batch_norm("affine, eps 0.1", (2, 2, 3, 4, 5), False, eps=0.1)
batch_norm("weight only", (3, 4, 5), False, affine=(True, False))
batch_norm("without running statistics: batch statistics", (2, 3, 5, 3), False, running=False)

g.write("batch_norm.json")
