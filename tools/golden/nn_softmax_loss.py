#!/usr/bin/python3
"""Golden cases for nn.softmax, nn.log_softmax, nn.cross_entropy and nn.nll_loss
-> tests/data/golden/nn/softmax_loss.json.

softmax/log_softmax over dims -1 (default), 0, 1 and a negative non-last dim. cross_entropy and
nll_loss: reductions mean/sum/none, class weights, ignore_index (default -100 and a class index,
with some targets equal to it), label_smoothing 0 and 0.1 (cross_entropy), [N, C] and spatial
[N, C, *d] inputs. The class weight is not differentiated (PyTorch's nll_loss has no gradient for
it), so its grad_inputs entry is null like the target's.
"""
import torch
import torch.nn.functional as F

from common import Golden

g = Golden(__file__, seed=1008)

WEIGHT = 2


def softmax(op, fn, x_shape, dim=None):
    attrs = {} if dim is None else {"dim": dim}
    d = -1 if dim is None else dim
    g.case(f"{op[3:]} x {list(x_shape)} dim {d}", op, lambda x: fn(x, d),
           [g.randn(*x_shape, scale=3.0)], attrs)


for op, fn in (("nn.softmax", F.softmax), ("nn.log_softmax", F.log_softmax)):
    softmax(op, fn, (3, 7))
    softmax(op, fn, (2, 3, 5), dim=-1)
    softmax(op, fn, (5, 4), dim=0)
    softmax(op, fn, (2, 6, 5), dim=1)
    softmax(op, fn, (3, 4, 5), dim=-2)
    softmax(op, fn, (9,), dim=0)


def targets(n_classes, shape, ignore=None, n_ignored=0):
    t = g.randint(0, n_classes, shape)
    if n_ignored:
        # Ignored positions are placed explicitly so that not every target is ignored.
        flat = t.view(-1)
        flat[torch.from_numpy(g.rng.choice(flat.numel(), n_ignored, replace=False))] = ignore
    return t


def loss_case(op, what, x_shape, reduction="mean", weight=False, ignore_index=None, n_ignored=0,
              label_smoothing=0.0):
    c = x_shape[1]
    attrs = {}
    if reduction != "mean":
        attrs["reduction"] = reduction
    kwargs = {"reduction": reduction}
    if ignore_index is not None:
        attrs["ignore_index"] = ignore_index
        kwargs["ignore_index"] = ignore_index
    if label_smoothing:
        attrs["label_smoothing"] = label_smoothing
        kwargs["label_smoothing"] = label_smoothing
    ignored = -100 if ignore_index is None else ignore_index

    if op == "nn.cross_entropy":
        x = g.randn(*x_shape, scale=2.0)
        fn = F.cross_entropy
    else:
        x = F.log_softmax(g.randn(*x_shape, scale=2.0), dim=1)
        fn = F.nll_loss
    t = targets(c, (x_shape[0], *x_shape[2:]), ignored, n_ignored)
    w = g.rounded(torch.from_numpy(0.25 + 1.5 * g.rng.random(c))) if weight else None
    inputs = [x, t, w]

    g.case(f"{op[3:]} {what}: x {list(x_shape)}, reduction {reduction}", op,
           lambda x, t, w: fn(x, t, w, **kwargs), inputs, attrs, constant=(WEIGHT,))


CE = "nn.cross_entropy"
for reduction in ("mean", "sum", "none"):
    loss_case(CE, "plain", (7, 5), reduction)
    loss_case(CE, "label_smoothing 0.1", (6, 4), reduction, label_smoothing=0.1)
    loss_case(CE, "class weights", (7, 5), reduction, weight=True)
    loss_case(CE, "class weights, label_smoothing 0.1", (5, 6), reduction, weight=True,
              label_smoothing=0.1)
loss_case(CE, "label_smoothing 0", (4, 3), label_smoothing=0.0)
loss_case(CE, "default ignore_index -100, 3 targets ignored", (9, 4), n_ignored=3)
loss_case(CE, "ignore_index 2, 2 targets ignored", (8, 5), ignore_index=2, n_ignored=2)
loss_case(CE, "ignore_index 0, weights", (8, 3), ignore_index=0, n_ignored=2, weight=True)
loss_case(CE, "ignore_index 1, weights", (8, 3), "sum", ignore_index=1, n_ignored=2, weight=True)
loss_case(CE, "ignore_index -100, label_smoothing 0.1, weights", (7, 4), ignore_index=-100,
          n_ignored=2, weight=True, label_smoothing=0.1)
loss_case(CE, "ignore_index 3, label_smoothing 0.1", (7, 4), "none", ignore_index=3,
          n_ignored=2, label_smoothing=0.1)
loss_case(CE, "spatial", (2, 5, 7))
loss_case(CE, "spatial", (2, 5, 7), "none")
loss_case(CE, "spatial, weights, ignore_index 4, label_smoothing 0.1", (3, 5, 4), "sum",
          ignore_index=4, n_ignored=3, weight=True, label_smoothing=0.1)
loss_case(CE, "spatial 2-D, weights, ignored targets", (2, 4, 3, 5), weight=True, n_ignored=4)

NLL = "nn.nll_loss"
for reduction in ("mean", "sum", "none"):
    loss_case(NLL, "plain", (7, 5), reduction)
    loss_case(NLL, "class weights", (6, 4), reduction, weight=True)
loss_case(NLL, "default ignore_index -100, 3 targets ignored", (9, 4), n_ignored=3)
loss_case(NLL, "ignore_index 1, weights", (8, 5), ignore_index=1, n_ignored=2, weight=True)
loss_case(NLL, "ignore_index 2", (8, 3), "none", ignore_index=2, n_ignored=3)
loss_case(NLL, "spatial", (2, 5, 7))
loss_case(NLL, "spatial, weights, ignored targets", (2, 4, 3, 5), "sum", weight=True,
          n_ignored=4)

g.write("softmax_loss.json")
