#!/usr/bin/env python3
"""PyTorch twin of voxelgrad's training recipe (Debian's python3-torch 1.13): is a recipe learnable at
all, independently of voxelgrad, and how fast? Not a test dependency.

The network mirrors src/model/resnet.ts (f-rMC5 + bilinear, the same as scripts/gen-golden-model.py,
whose golden voxelgrad matches): 2-D convolutions in the stem and stages 1-3, 3-D in stage 4, never
striding depth; the loss mirrors src/train/trainer.ts's batchLoss: focal on the representative
slices' logits, then (after --slice-epochs) + focal on the volume logit + batch-hard triplet on the
L2-normalised bilinear embedding. Optimiser: SGD (momentum, weight decay; the paper) or Adam; cosine
schedule to 1 % of lr; head_fc at --head-lr-scale x lr; minority oversampling per epoch.
Augmentation (--aug): rigid = rotate +-45 deg, scale +-10 %, shift +-6.25 %, flip (each with
probability --aug-p: voxelgrad's `light` set); d4 = horizontal/vertical flips and 90-degree rotations;
none.

Evaluation: k-fold cross-validation (--folds, label-stratified; or --holdout for one split), and for
each test volume three inputs: `window` = depth slices around its representative slices (how
voxelgrad's train loads every volume), `central` = the stack's central depth slices and `whole` =
the whole stack — the last two need neither the label nor the annotation. Printed per epoch (when
--eval-every) and at the end: volume-logit AUC per input, the slice-head AUC on the representative
slices, seconds per epoch.

  node scripts/export-cohort.mjs <manifest.csv> 48 8 /tmp/c48 --bias-field   # after npm run build
  /usr/bin/python3 scripts/learnability-torch.py /tmp/c48 --folds 2

The measurements behind the demo's recipe are in the README's demo section.
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
ap.add_argument("data", help="prefix written by scripts/export-cohort.mjs")
ap.add_argument("--width", type=int, default=8)
ap.add_argument("--epochs", type=int, default=16)
ap.add_argument("--slice-epochs", type=int, default=12, help="epochs of slice-level training before the volume losses join")
ap.add_argument("--opt", choices=["sgd", "adam"], default="sgd")
ap.add_argument("--lr", type=float, default=0.03)
ap.add_argument("--momentum", type=float, default=0.9)
ap.add_argument("--wd", type=float, default=0.01, help="weight decay (Adam: decoupled, AdamW)")
ap.add_argument("--warmup", type=int, default=0, help="epochs of linear lr warm-up")
ap.add_argument("--loss", choices=["focal", "bce"], default="focal")
ap.add_argument("--gamma", type=float, default=2.0)
ap.add_argument("--triplet", type=float, default=1.0)
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--head-lr-scale", type=float, default=10.0)
ap.add_argument("--aug", choices=["rigid", "d4", "none"], default="rigid")
ap.add_argument("--aug-p", type=float, default=0.5)
ap.add_argument("--no-pool", action="store_true", help="drop the stem's max-pool (2x the feature map)")
ap.add_argument("--depth-jitter", action="store_true", help="train on depth windows at a random position holding >= 1 representative slice (needs the .full.bin)")
ap.add_argument("--folds", type=int, default=2)
ap.add_argument("--only-fold", type=int, default=-1)
ap.add_argument("--train", type=int, default=0, help="cap the training subjects per fold (0 = all)")
ap.add_argument("--eval-every", type=int, default=0, help="evaluate the hold-out every n epochs (0 = at the end)")
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--json", default="", help="append a JSON line with the results to this file")
a = ap.parse_args()

torch.manual_seed(a.seed)
torch.set_num_threads(a.threads or os.cpu_count() or 1)
meta = json.load(open(a.data + ".json"))
D, H, W = meta["dims"]
X = torch.from_numpy(np.fromfile(a.data + ".bin", dtype=np.float32).reshape(-1, 1, D, H, W))
labs = np.asarray(meta["labels"], dtype=int)
rep = meta["rep"]
full = np.fromfile(a.data + ".full.bin", dtype=np.float32) if os.path.exists(a.data + ".full.bin") else None
SQRT_EPS, NORM_EPS = 1e-10, 1e-12


def stack(i):
    """The whole preprocessed stack of volume i, [1, 1, Di, H, W]."""
    d, o = meta["depths"][i], meta["offsets"][i]
    return torch.from_numpy(full[o : o + d * H * W].reshape(1, 1, d, H, W))


def central(i):
    v = stack(i)
    d = v.shape[2]
    if d >= D:
        s = (d - D) // 2
        return v[:, :, s : s + D]
    idx = [min(d - 1, max(0, k - (D - d) // 2)) for k in range(D)]
    return v[:, :, idx]


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
    def __init__(self, w, pool=True):
        super().__init__()
        self.pool = pool
        self.conv1 = nn.Conv3d(1, w, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(w)
        cin = w
        for i, (kind, c) in enumerate(zip(["2d", "2d", "2d", "3d"], [w, 2 * w, 4 * w, 8 * w])):
            setattr(self, f"layer{i + 1}", nn.Sequential(Block(kind, cin, c, 1 if i == 0 else 2), Block(kind, c, c, 1)))
            cin = c
        self.fc = nn.Linear(8 * w, 1)
        self.head_fc = nn.Linear((8 * w) ** 2, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        if self.pool:
            h = F.max_pool3d(h, (1, 3, 3), (1, 2, 2), (0, 1, 1))
        for i in range(4):
            h = getattr(self, f"layer{i + 1}")(h)
        f = h.mean(dim=(3, 4))  # [N, C, D]
        n, c, d = f.shape
        slice_logits = self.fc(f.transpose(1, 2).reshape(n * d, c)).reshape(n, d)
        b = torch.bmm(f, f.transpose(1, 2)).reshape(n, c * c) / d
        s = b / (torch.sqrt(b.abs() + SQRT_EPS) + math.sqrt(SQRT_EPS))
        y = s / torch.sqrt((s * s).sum(1, keepdim=True) + NORM_EPS)
        return slice_logits, self.head_fc(y).reshape(n), y


def cls_loss(logits, targets):
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if a.loss == "bce":
        return ce.mean()
    p = torch.sigmoid(logits)
    pt = p * targets + (1 - p) * (1 - targets)
    return ((1 - pt) ** a.gamma * ce).mean()


def triplet_batch_hard(x, labels, margin=0.2):
    x = x / torch.sqrt((x * x).sum(1, keepdim=True) + NORM_EPS)
    dist = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    losses = []
    for i in range(len(labels)):
        pos, neg = same[i] & ~eye[i], ~same[i]
        if pos.any() and neg.any():
            losses.append(F.relu(dist[i][pos].max() - dist[i][neg].min() + margin))
    return torch.stack(losses).mean() if losses else dist.sum() * 0


def auc(s, l):
    s, l = np.asarray(s, dtype=float), np.asarray(l)
    pos, neg = s[l == 1], s[l == 0]
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))


def augment(x):
    b = x.shape[0]
    x2 = x.reshape(b, D, H, W)
    if a.aug == "d4":
        out = []
        for v in x2:
            if torch.rand(()) < 0.5:
                v = v.flip(-1)
            if torch.rand(()) < 0.5:
                v = v.flip(-2)
            out.append(torch.rot90(v, int(torch.randint(0, 4, ())), (-2, -1)))
        return torch.stack(out).reshape(b, 1, D, H, W)
    on = lambda: (torch.rand(b) < a.aug_p).float()
    ang = (torch.rand(b) * 2 - 1) * math.pi / 4 * on()
    flip = (torch.rand(b) < 0.5).float() * 2 - 1
    sc = 1 + (torch.rand(b) * 2 - 1) * 0.1 * on()
    sh = (torch.rand(b, 2) * 2 - 1) * 0.0625 * on()[:, None]
    th = torch.zeros(b, 2, 3)
    th[:, 0, 0], th[:, 0, 1] = torch.cos(ang) * flip / sc, -torch.sin(ang) / sc
    th[:, 1, 0], th[:, 1, 1] = torch.sin(ang) * flip / sc, torch.cos(ang) / sc
    th[:, :, 2] = sh
    out = F.grid_sample(x2, F.affine_grid(th, (b, D, H, W), align_corners=False), padding_mode="reflection", align_corners=False)
    return out.reshape(b, 1, D, H, W)


def lr_at(ep):
    base = a.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * ep / a.epochs)))
    return base * min(1.0, (ep + 1) / a.warmup) if a.warmup else base


def jittered(i, rng):
    """A depth-D window of volume i's whole stack at a random start that keeps >= 1 representative slice,
    and the representative slices inside it (edge slices repeated when the stack is shorter than D)."""
    v = stack(i)[0, 0]
    d = v.shape[0]
    reps = meta["fullRep"][i]
    lo, hi = max(min(reps) - D + 1, min(0, d - D)), min(max(reps), max(0, d - D))
    start = int(rng.randint(lo, hi + 1))
    idx = [min(d - 1, max(0, start + k)) for k in range(D)]
    inside = [r - start for r in reps if 0 <= r - start < D]
    return v[idx], inside


def by_depth(test, fetch):
    """Volume logits of `fetch(i)` inputs, batched by depth (whole stacks differ in depth)."""
    out = {}
    groups = {}
    for i in test:
        v = fetch(i)
        groups.setdefault(v.shape[2], []).append((i, v))
    for items in groups.values():
        for k in range(0, len(items), 64):
            chunk = items[k : k + 64]
            vl = model_ref[0](torch.cat([v for _, v in chunk]))[1]
            for (i, _), s in zip(chunk, vl.tolist()):
                out[i] = s
    return [out[i] for i in test]


model_ref = [None]


def evaluate(model, test, final):
    model.eval()
    model_ref[0] = model
    out = {}
    with torch.no_grad():
        sl, vl = [], []
        for k in range(0, len(test), 64):
            s, v, _ = model(X[test[k : k + 64]])
            sl.append(s)
            vl.append(v)
        sl, vl = torch.cat(sl), torch.cat(vl)
        out["slice_rep"] = auc([torch.sigmoid(sl[k, rep[i]]).mean().item() for k, i in enumerate(test)], labs[test])
        out["window"] = auc(vl.numpy(), labs[test])
        if final and full is not None:
            out["central"] = auc(by_depth(test, central), labs[test])
            out["whole"] = auc(by_depth(test, stack), labs[test])
    model.train()
    return out, vl.numpy()


def run_fold(train, test, fold):
    model = FrMC5Bilinear(a.width, pool=not a.no_pool).float()
    head = [p for n, p in model.named_parameters() if n.startswith("head_fc")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("head_fc")]
    groups = [{"params": rest, "scale": 1.0}, {"params": head, "scale": a.head_lr_scale}]
    if a.opt == "sgd":
        opt = torch.optim.SGD(groups, lr=a.lr, momentum=a.momentum, weight_decay=a.wd)
    else:
        opt = torch.optim.AdamW(groups, lr=a.lr, weight_decay=a.wd)
    rng = np.random.RandomState(a.seed * 1000 + fold)
    curve = []
    t_train = 0.0
    for ep in range(a.epochs):
        t0 = time.time()
        tr = list(train)
        mino = [i for i in tr if labs[i] == 0]
        majo = [i for i in tr if labs[i] == 1]
        small, big = (mino, majo) if len(mino) < len(majo) else (majo, mino)
        tr += list(rng.choice(small, len(big) - len(small)))
        rng.shuffle(tr)
        for g in opt.param_groups:
            g["lr"] = g["scale"] * lr_at(ep)
        total, steps = 0.0, 0
        for i in range(0, len(tr) - 1, a.batch):
            b = tr[i : i + a.batch]
            if len(b) < 2:
                continue
            if a.depth_jitter:
                cut = [jittered(bi, rng) for bi in b]
                xb, reps = torch.stack([c[0] for c in cut])[:, None], [c[1] for c in cut]
            else:
                xb, reps = X[b], [rep[bi] for bi in b]
            xb = augment(xb) if a.aug != "none" else xb
            sl, vl, emb = model(xb)
            rows = [k * D + r for k, rs in enumerate(reps) for r in rs]
            loss = cls_loss(sl.reshape(-1)[rows], torch.tensor([float(labs[bi]) for bi, rs in zip(b, reps) for _ in rs]))
            if ep >= a.slice_epochs:
                loss = loss + cls_loss(vl, torch.tensor([float(labs[bi]) for bi in b]))
                if a.triplet > 0:
                    loss = loss + a.triplet * triplet_batch_hard(emb, torch.tensor([labs[bi] for bi in b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        t_train += time.time() - t0
        line = f"fold {fold} epoch {ep + 1} loss {total / steps:.4f} lr {lr_at(ep):.4g} ({time.time() - t0:.0f} s)"
        if a.eval_every and ((ep + 1) % a.eval_every == 0 or ep + 1 == a.epochs):
            r, _ = evaluate(model, test, False)
            curve.append({"epoch": ep + 1, **r})
            line += " " + " ".join(f"{k} {v:.3f}" for k, v in r.items())
        print(line, flush=True)
    r, scores = evaluate(model, test, True)
    return r, scores, curve, t_train


rng0 = np.random.RandomState(a.seed)
folds = np.zeros(len(labs), dtype=int)
for c in (0, 1):
    idx = rng0.permutation(np.where(labs == c)[0])
    folds[idx] = np.arange(len(idx)) % a.folds
results = []
for f in range(a.folds):
    if a.only_fold >= 0 and f != a.only_fold:
        continue
    test = np.where(folds == f)[0]
    train = np.where(folds != f)[0]
    if a.train:
        train = rng0.permutation(train)[: a.train]
    r, scores, curve, t = run_fold(list(train), list(test), f)
    print(f"fold {f}: " + " ".join(f"{k} {v:.3f}" for k, v in r.items()) + f" (train {t:.0f} s)", flush=True)
    results.append({"fold": f, **r, "train_s": t, "curve": curve})
keys = [k for k in results[0] if k not in ("fold", "train_s", "curve")]
summary = {k: float(np.mean([r[k] for r in results])) for k in keys}
print("mean over folds: " + " ".join(f"{k} {v:.3f}" for k, v in summary.items()), flush=True)
if a.json:
    with open(a.json, "a") as fh:
        fh.write(json.dumps({"args": vars(a), "folds": results, "mean": summary, "loadavg": os.getloadavg()}) + "\n")
