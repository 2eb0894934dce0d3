#!/usr/bin/env python3
"""PyTorch golden for one full training step of a small f-rMC5 + bilinear + focal + triplet network.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 scripts/gen-golden-model.py
Writes test/fixtures/golden/model/frmc5-bilinear-step.json: initial parameters and BN buffers (under
voxelgrad's state-dict names), the batch, and after one step: the loss, every parameter gradient, the
parameters after SGD (momentum 0.9, weight decay 0.01, lr 0.01) and the updated running statistics.
The test loads the same initial weights into voxelgrad and compares (relative error < 1e-3).

The network mirrors src/model/resnet.ts exactly (f-rMC5: 2-D convolutions in the stem and stages 1–3,
3-D in stage 4; stride never along depth), and the loss mirrors src/train/trainer.ts's batchLoss:
focal(representative-slice logits) + focal(volume logits) + triplet(L2-normalised bilinear embedding).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)

WIDTH = 2
N, D, S = 4, 4, 32
SQRT_EPS = 1e-10
NORM_EPS = 1e-12


class Block(nn.Module):
    def __init__(self, kind, cin, cout, stride):
        super().__init__()
        k, p = ((1, 3, 3), (0, 1, 1)) if kind == "2d" else ((3, 3, 3), (1, 1, 1))
        s = (1, stride, stride)
        self.conv1 = nn.Conv3d(cin, cout, k, s, p, bias=False)
        self.bn1 = nn.BatchNorm3d(cout)
        self.conv2 = nn.Conv3d(cout, cout, k, 1, p, bias=False)
        self.bn2 = nn.BatchNorm3d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv3d(cin, cout, 1, s, 0, bias=False), nn.BatchNorm3d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(h))
        return F.relu(o + (self.downsample(x) if self.downsample is not None else x))


class FrMC5Bilinear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.conv1 = nn.Conv3d(1, w, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(w)
        kinds = ["2d", "2d", "2d", "3d"]
        widths = [w, 2 * w, 4 * w, 8 * w]
        cin = w
        for i, (kind, c) in enumerate(zip(kinds, widths)):
            setattr(self, f"layer{i + 1}", nn.Sequential(Block(kind, cin, c, 1 if i == 0 else 2), Block(kind, c, c, 1)))
            cin = c
        self.fc = nn.Linear(8 * w, 1)
        self.head_fc = nn.Linear((8 * w) ** 2, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.max_pool3d(h, (1, 3, 3), (1, 2, 2), (0, 1, 1))
        for i in range(4):
            h = getattr(self, f"layer{i + 1}")(h)
        f = h.mean(dim=(3, 4))  # [N, C, D]
        n, c, d = f.shape
        slice_emb = f.transpose(1, 2).reshape(n * d, c)
        slice_logits = self.fc(slice_emb).reshape(n, d)
        b = torch.bmm(f, f.transpose(1, 2)).reshape(n, c * c) / d
        s = b / (torch.sqrt(b.abs() + SQRT_EPS) + math.sqrt(SQRT_EPS))
        y = s / torch.sqrt((s * s).sum(1, keepdim=True) + NORM_EPS)
        return slice_logits, self.head_fc(y).reshape(n), y


def focal(logits, targets, gamma=2.0):
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    pt = p * targets + (1 - p) * (1 - targets)
    return ((1 - pt) ** gamma * ce).mean()


def triplet_batch_hard(x, labels, margin=0.2):
    x = x / torch.sqrt((x * x).sum(1, keepdim=True) + NORM_EPS)
    dist = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    losses = []
    for a in range(len(labels)):
        pos = same[a] & ~eye[a]
        neg = ~same[a]
        if pos.any() and neg.any():
            dp = dist[a][pos].max()
            dn = dist[a][neg].min()
            losses.append(F.relu(dp - dn + margin))
    return torch.stack(losses).mean() if losses else dist.sum() * 0


model = FrMC5Bilinear(WIDTH)
model.train()
x = torch.randn(N, 1, D, S, S)
labels = [0, 1, 1, 0]
rep = [[1], [2], [1, 2], [3]]
init = {k: v.detach().clone() for k, v in model.state_dict().items()}

slice_logits, vol_logits, emb = model(x)
rows = [b * D + r for b, rs in enumerate(rep) for r in rs]
rep_labels = torch.tensor([float(labels[b]) for b, rs in enumerate(rep) for _ in rs])
loss = focal(slice_logits.reshape(-1)[rows], rep_labels) + focal(vol_logits, torch.tensor(labels, dtype=torch.float64)) + triplet_batch_hard(emb, torch.tensor(labels))
loss.backward()
grads = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=0.01)
opt.step()
after = {k: v.detach().clone() for k, v in model.state_dict().items()}


def t(v):
    return {"shape": list(v.shape), "data": [float(z) for z in v.reshape(-1).tolist()]}


out = {
    "torch": torch.__version__,
    "generator": "scripts/gen-golden-model.py",
    "note": "one training step of f-rMC5 (width 2) + bilinear + focal + triplet, float64",
    "width": WIDTH,
    "input": t(x),
    "labels": labels,
    "repSlices": rep,
    "loss": float(loss),
    "init": {k: t(v) for k, v in init.items() if not k.endswith("num_batches_tracked")},
    "grads": {k: t(v) for k, v in grads.items()},
    "after": {k: t(v) for k, v in after.items() if not k.endswith("num_batches_tracked")},
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "golden", "model", "frmc5-bilinear-step.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as fh:
    json.dump(out, fh, separators=(",", ":"))
print(f"wrote {path}: loss {float(loss):.6f}, {sum(v.numel() for v in grads.values())} parameters")
