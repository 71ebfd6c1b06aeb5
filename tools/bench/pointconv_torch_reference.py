"""The official PointConv PyTorch classifier's algorithms, for benchmark baselines when no checkout of
DylanWusee/pointconv_pytorch is at hand (pointconv_bench.py --official uses the real one).

Written from ../shared/reference/pointconv.md §1 (not from the official source), keeping what decides
its speed and memory: the Python FPS loop (one argmax per step), distances by the expansion
-2·a·bᵀ + |a|² + |b|² with a full [B, S, N] matrix, torch.topk for kNN, the all-pairs [B, N, N] KDE,
channels-first Conv2d 1x1 + BatchNorm2d + ReLU layers, the [C, K]·[K, 16] matmul and a Linear +
BatchNorm1d. Module and parameter names follow the official state dict.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def square_distance(a, b):
    d = -2 * torch.matmul(a, b.permute(0, 2, 1))
    d += (a ** 2).sum(-1)[:, :, None]
    d += (b ** 2).sum(-1)[:, None, :]
    return d


def index_points(points, idx):
    batch = torch.arange(points.shape[0]).view(-1, *([1] * (idx.dim() - 1))).expand_as(idx)
    return points[batch, idx]


def farthest_point_sample(xyz, npoint):
    B, N, _ = xyz.shape
    chosen = torch.zeros(B, npoint, dtype=torch.long)
    distance = torch.full((B, N), 1e10)
    farthest = torch.zeros(B, dtype=torch.long)
    batch = torch.arange(B)
    for i in range(npoint):
        chosen[:, i] = farthest
        d = ((xyz - xyz[batch, farthest][:, None]) ** 2).sum(-1)
        distance = torch.minimum(distance, d)
        farthest = distance.max(-1)[1]
    return chosen


def knn_point(k, xyz, centres):
    return square_distance(centres, xyz).topk(k, dim=-1, largest=False, sorted=False)[1]


def compute_density(xyz, bandwidth):
    return (torch.exp(-square_distance(xyz, xyz) / (2 * bandwidth * bandwidth)) / (2.5 * bandwidth)).mean(-1)


class ConvStack(nn.Module):
    """1x1 Conv2d + BatchNorm2d + ReLU layers (mlp_convs / mlp_bns)."""

    def __init__(self, cin, widths):
        super().__init__()
        self.mlp_convs, self.mlp_bns = nn.ModuleList(), nn.ModuleList()
        for c in widths:
            self.mlp_convs.append(nn.Conv2d(cin, c, 1))
            self.mlp_bns.append(nn.BatchNorm2d(c))
            cin = c

    def forward(self, x):
        for conv, bn in zip(self.mlp_convs, self.mlp_bns):
            x = F.relu(bn(conv(x)))
        return x


class SetAbstraction(nn.Module):
    def __init__(self, npoint, nsample, in_channel, mlp, bandwidth, group_all):
        super().__init__()
        self.npoint, self.nsample, self.bandwidth, self.group_all = npoint, nsample, bandwidth, group_all
        stack = ConvStack(in_channel, mlp)
        self.mlp_convs, self.mlp_bns = stack.mlp_convs, stack.mlp_bns
        self.weightnet = ConvStack(3, [8, 8, 16])
        self.densitynet = ConvStack(1, [16, 8, 1])
        self.linear = nn.Linear(16 * mlp[-1], mlp[-1])
        self.bn_linear = nn.BatchNorm1d(mlp[-1])

    def forward(self, xyz, points):  # [B, 3, N], [B, D, N]
        B, _, N = xyz.shape
        xyz = xyz.permute(0, 2, 1)
        points = points.permute(0, 2, 1) if points is not None else None
        inverse = 1.0 / compute_density(xyz, self.bandwidth)
        if self.group_all:
            new_xyz = xyz.mean(1, keepdim=True)
            rel = (xyz - new_xyz)[:, None]
            grouped = torch.cat([rel, points[:, None]], -1) if points is not None else rel
            density = inverse.view(B, 1, N, 1)
        else:
            new_xyz = index_points(xyz, farthest_point_sample(xyz, self.npoint))
            idx = knn_point(self.nsample, xyz, new_xyz)
            rel = index_points(xyz, idx) - new_xyz[:, :, None]
            grouped = torch.cat([rel, index_points(points, idx)], -1) if points is not None else rel
            density = index_points(inverse[..., None], idx)
        x = grouped.permute(0, 3, 2, 1)
        for conv, bn in zip(self.mlp_convs, self.mlp_bns):
            x = F.relu(bn(conv(x)))
        scale = self.densitynet((density / density.max(2, keepdim=True)[0]).permute(0, 3, 2, 1))
        x = x * scale
        w = self.weightnet(rel.permute(0, 3, 2, 1))
        y = torch.matmul(x.permute(0, 3, 1, 2), w.permute(0, 3, 2, 1)).reshape(B, new_xyz.shape[1], -1)
        y = F.relu(self.bn_linear(self.linear(y).permute(0, 2, 1)))
        return new_xyz.permute(0, 2, 1), y


class Classifier(nn.Module):
    """PointConvDensityClsSsg: forward(xyz [B, 3, N], features [B, 3, N] or None) -> log-probs."""

    def __init__(self, num_classes=40, feature_dim=3):
        super().__init__()
        self.sa1 = SetAbstraction(512, 32, feature_dim + 3, [64, 64, 128], 0.1, False)
        self.sa2 = SetAbstraction(128, 64, 128 + 3, [128, 128, 256], 0.2, False)
        self.sa3 = SetAbstraction(1, None, 256 + 3, [256, 512, 1024], 0.4, True)
        self.fc1, self.bn1, self.drop1 = nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.Dropout(0.7)
        self.fc2, self.bn2, self.drop2 = nn.Linear(512, 256), nn.BatchNorm1d(256), nn.Dropout(0.7)
        self.fc3 = nn.Linear(256, num_classes)

    def forward(self, xyz, features):
        l1_xyz, l1 = self.sa1(xyz, features)
        l2_xyz, l2 = self.sa2(l1_xyz, l1)
        _, l3 = self.sa3(l2_xyz, l2)
        x = l3.view(xyz.shape[0], -1)
        x = self.drop1(F.relu(self.bn1(self.fc1(x))))
        x = self.drop2(F.relu(self.bn2(self.fc2(x))))
        return F.log_softmax(self.fc3(x), -1)
