#!/usr/bin/python3
"""Golden cases for nn.batch_norm -> tests/data/golden/nn/batch_norm.json.

Input ranks 2 to 5; training mode (batch statistics, running statistics updated in place and
recorded in state_after) and eval mode (running statistics); with and without the affine weight
and bias; without running statistics; non-default eps and momentum.

Channels last (attribute dim = -1, or the last dim's index): x [*, C], computed by PyTorch on
x moved to [N, C, *] and moved back; training and eval mode, ranks 2 to 5. Some row counts (the
product of the dims before C: 198, 69, 130) span several of the kernel's 64-row blocks without
being a multiple of 64, and one case has more channels than a channel block (256). Then dim 1
spelled -3, and dim -1 of a rank-2 x (the same dim).
"""
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1003)

RUNNING_MEAN, RUNNING_VAR = 3, 4


def batch_norm(what, x_shape, training, affine=(True, True), running=True, **attrs):
    rank = len(x_shape)
    dim = attrs.get("dim", 1)
    channel_dim = dim + rank if dim < 0 else dim
    c = x_shape[channel_dim]
    # Channels get their own offset and scale, so that the statistics differ per channel.
    shift_shape = [1] * rank
    shift_shape[channel_dim] = c
    shift = g.randn(*shift_shape, scale=2.0)
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
        # PyTorch's channels are dim 1: move them there and back.
        y = F.batch_norm(x.movedim(channel_dim, 1), running_mean, running_var, weight, bias,
                         use_batch_stats, momentum, eps)
        return y.movedim(1, channel_dim)

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

# Channels last.
batch_norm("channels last, affine", (2, 9, 11, 3), True, dim=-1)
batch_norm("channels last, affine, eps 1e-3, momentum 0.3", (3, 23, 5), True, dim=-1, eps=1e-3,
           momentum=0.3)
batch_norm("channels last, no affine", (7, 5), True, affine=(False, False), dim=-1)
batch_norm("channels last, weight only, dim 4", (2, 3, 2, 11, 4), True, affine=(True, False), dim=4)
batch_norm("channels last, 260 channels", (2, 260), True, dim=-1)
batch_norm("channels last, without running statistics", (4, 5, 6), True, running=False, dim=-1)
batch_norm("channels last, N 1", (1, 5, 2), True, dim=-1)
batch_norm("channels last, affine", (2, 5, 13, 3), False, dim=-1)
batch_norm("channels last, bias only, dim 2", (5, 3, 4), False, affine=(False, True), dim=2)
batch_norm("channels last, no affine, eps 0.1", (9, 6), False, affine=(False, False), dim=-1,
           eps=0.1)
batch_norm("channels last, without running statistics: batch statistics", (3, 7, 5), False,
           running=False, dim=-1)
# Other spellings of dim 1.
batch_norm("dim -3 (= 1)", (2, 3, 4, 5), True, dim=-3)
batch_norm("dim -1 of a rank-2 x (= 1)", (6, 4), False, dim=-1)

g.write("batch_norm.json")
