#!/usr/bin/env python3
"""Cross-check of the demo's training recipe in PyTorch (Debian's python3-torch 1.13): is a setting
learnable at all at this size, independently of voxelgrad? Not a test dependency.

The network and losses are scripts/gen-golden-model.py's (f-rMC5 + bilinear, mirroring
src/model/resnet.ts; focal on the representative slices' logits, then + focal on the volume logit +
batch-hard triplet after --slice-epochs); SGD momentum 0.9, weight decay 0.01, cosine to 1 % of lr,
head_fc at --head-lr-scale × lr; minority oversampling; rigid augmentation (rotate ±45°, scale ±10 %,
shift, flip; each with probability --aug-p) and optionally brightness/contrast ±0.2 (p 0.5 each).
Prints the hold-out AUC of the representative slices and of the volume logit per epoch.

  node scripts/export-cohort.mjs <manifest.csv> 48 8 /tmp/cohort48     # after npm run build
  /usr/bin/python3 scripts/learnability-torch.py /tmp/cohort48 --epochs 16 --slice-epochs 12 --lr 0.03 --train 360 --seed 0

Measured for the demo preset (720 subjects, 64 mm / 1 mm, 48×48×8, width 8, 360 training subjects,
hold-out = a third): 16 epochs rigid --aug-p 0.5: volume AUC 0.83–0.93 for seeds 0–3; with
--brightness-contrast: 0.91, 0.91, 0.65, 0.55; 11 epochs: 2 of 4 seeds learn.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("--width", type=int, default=8)
ap.add_argument("--epochs", type=int, default=16)
ap.add_argument("--slice-epochs", type=int, default=12)
ap.add_argument("--lr", type=float, default=0.03)
ap.add_argument("--gamma", type=float, default=2.0)
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--train", type=int, default=0, help="training subjects (0 = two thirds)")
ap.add_argument("--head-lr-scale", type=float, default=10.0)
ap.add_argument("--aug-p", type=float, default=0.5, help="probability of each rigid op (0 = no augmentation)")
ap.add_argument("--brightness-contrast", action="store_true")
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()

torch.manual_seed(a.seed)
torch.set_num_threads(os.cpu_count() or 1)
meta = json.load(open(a.data + ".json"))
D, H, W = meta["dims"]
X = torch.from_numpy(np.fromfile(a.data + ".bin", dtype=np.float32).reshape(-1, 1, D, H, W))
labs = np.asarray(meta["labels"], dtype=int)
rep = meta["rep"]

# The reference network and losses, shared with the golden-fixture script (float32 here).
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen-golden-model.py")).read()
SQRT_EPS, NORM_EPS = 1e-10, 1e-12
exec(src.split("torch.set_default_dtype")[0].split("torch.manual_seed")[0])
exec(src.split("NORM_EPS = 1e-12")[1].split("model = FrMC5Bilinear")[0])

rng = np.random.RandomState(a.seed)
idx = rng.permutation(len(labs))
test, train = idx[: len(labs) // 3], idx[len(labs) // 3:]
if a.train:
    train = train[: a.train]
model = FrMC5Bilinear(a.width).float()
head = [p for n, p in model.named_parameters() if n.startswith("head_fc")]
rest = [p for n, p in model.named_parameters() if not n.startswith("head_fc")]
opt = torch.optim.SGD([{"params": rest, "scale": 1.0}, {"params": head, "scale": a.head_lr_scale}], lr=a.lr, momentum=0.9, weight_decay=0.01)


def auc(s, l):
    s, l = np.asarray(s), np.asarray(l)
    pos, neg = s[l == 1], s[l == 0]
    return ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))


def augment(x):
    b = x.shape[0]
    on = lambda: (torch.rand(b) < a.aug_p).float()
    ang = (torch.rand(b) * 2 - 1) * math.pi / 4 * on()
    flip = (torch.rand(b) < 0.5).float() * 2 - 1
    sc = 1 + (torch.rand(b) * 2 - 1) * 0.1 * on()
    sh = (torch.rand(b, 2) * 2 - 1) * 0.0625 * on()[:, None]
    th = torch.zeros(b, 2, 3)
    th[:, 0, 0], th[:, 0, 1] = torch.cos(ang) * flip / sc, -torch.sin(ang) / sc
    th[:, 1, 0], th[:, 1, 1] = torch.sin(ang) * flip / sc, torch.cos(ang) / sc
    th[:, :, 2] = sh
    x2 = x.reshape(b, D, H, W)
    out = F.grid_sample(x2, F.affine_grid(th, (b, D, H, W), align_corners=False), padding_mode="reflection", align_corners=False)
    if a.brightness_contrast:
        lo, hi = out.amin(dim=(1, 2, 3), keepdim=True), out.amax(dim=(1, 2, 3), keepdim=True)
        out = out + (torch.rand(b, 1, 1, 1) * 2 - 1) * 0.2 * (torch.rand(b, 1, 1, 1) < 0.5).float() * (hi - lo)
        m = out.mean(dim=(1, 2, 3), keepdim=True)
        out = m + (1 + (torch.rand(b, 1, 1, 1) * 2 - 1) * 0.2 * (torch.rand(b, 1, 1, 1) < 0.5).float()) * (out - m)
    return out.reshape(b, 1, D, H, W)


for ep in range(a.epochs):
    model.train()
    t0 = time.time()
    tr = list(train)
    mino = [i for i in tr if labs[i] == 0]
    majo = [i for i in tr if labs[i] == 1]
    small, big = (mino, majo) if len(mino) < len(majo) else (majo, mino)
    tr += list(rng.choice(small, len(big) - len(small)))
    rng.shuffle(tr)
    for g in opt.param_groups:
        g["lr"] = g["scale"] * a.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * ep / a.epochs)))
    total, steps = 0.0, 0
    for i in range(0, len(tr) - 1, a.batch):
        b = tr[i : i + a.batch]
        xb = augment(X[b]) if a.aug_p > 0 else X[b]
        sl, vl, emb = model(xb)
        rows = [k * D + r for k, bi in enumerate(b) for r in rep[bi]]
        loss = focal(sl.reshape(-1)[rows], torch.tensor([float(labs[bi]) for bi in b for _ in rep[bi]]), a.gamma)
        if ep >= a.slice_epochs:
            yb = torch.tensor([float(labs[bi]) for bi in b])
            loss = loss + focal(vl, yb, a.gamma) + triplet_batch_hard(emb, torch.tensor([labs[bi] for bi in b]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total, steps = total + loss.item(), steps + 1
    model.eval()
    with torch.no_grad():
        sl, vl, _ = model(X[test])
    ps = [sl[k, rep[i]].mean().item() for k, i in enumerate(test)]
    print(f"epoch {ep + 1} loss {total / steps:.3f} hold-out slice AUC {auc(ps, labs[test]):.3f} volume AUC {auc(vl.numpy(), labs[test]):.3f} ({time.time() - t0:.0f} s)", flush=True)
