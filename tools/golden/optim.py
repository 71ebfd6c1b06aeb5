#!/usr/bin/python3
"""Writes tests/data/golden/optim.json: torch.optim SGD and AdamW trajectories in float64.

Each case starts from given parameters and applies a few steps with given gradients and learning
rates (the learning rate changes between steps, as a schedule would change it); the expected
parameters after every step are recorded. Also records StepLR and CosineAnnealingLR learning
rates per epoch.

Run from the repository root:  /usr/bin/python3 tools/golden/optim.py
"""
import json
import pathlib

import numpy as np
import torch

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = REPO / "tests/data/golden/optim.json"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261123)


def values(t):
    return t.detach().reshape(-1).tolist()


def trajectory(config, shapes, lrs):
    params = [torch.tensor(np.round(rng.standard_normal(s), 4)).requires_grad_() for s in shapes]
    start = [values(p) for p in params]
    kwargs = {k: v for k, v in config.items() if k != "name"}
    kwargs.pop("lr")
    if config["name"] == "sgd":
        opt = torch.optim.SGD(params, lr=lrs[0], **kwargs)
    else:
        kwargs["betas"] = (kwargs.pop("beta1"), kwargs.pop("beta2"))
        opt = torch.optim.AdamW(params, lr=lrs[0], **kwargs)
    steps = []
    for lr in lrs:
        grads = [torch.tensor(np.round(rng.standard_normal(p.shape), 4)) for p in params]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        steps.append({"lr": lr, "grads": [values(g) for g in grads], "params": [values(p) for p in params]})
    return {"config": config, "shapes": [list(s) for s in shapes], "start": start, "steps": steps}


cases = [
    trajectory({"name": "sgd", "lr": 0.1}, [(3,), (2, 2)], [0.1, 0.1, 0.05]),
    trajectory({"name": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, [(5,)], [0.1, 0.05, 0.05, 0.02]),
    trajectory({"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}, [(4,), (3,)],
               [0.1, 0.1, 0.1]),
    trajectory({"name": "adamw", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
               [(3,), (2, 3)], [0.01, 0.01, 0.005, 0.005]),
    trajectory({"name": "adamw", "lr": 0.001, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.0},
               [(6,)], [0.001, 0.002, 0.003]),
]


def schedule(kind, epochs, **kw):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    if kind == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=kw["step_size"], gamma=kw["gamma"])
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=kw["min_lr"])
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"kind": kind, "epochs": epochs, "base_lr": 0.1, **kw, "lrs": lrs}


schedules = [schedule("step", 10, step_size=3, gamma=0.5), schedule("cosine", 12, min_lr=0.001)]
OUT.write_text(json.dumps({"generator": "tools/golden/optim.py", "optimizers": cases, "schedules": schedules},
                          separators=(",", ":")) + "\n")
