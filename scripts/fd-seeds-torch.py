#!/usr/bin/env python3
"""The whole-network finite-difference check's seeds through PyTorch, in float32 and float64.

Twin of scripts/gen-golden-model.py for test/model/train-step.test.ts's finite-difference tests: the same
f-rMC5 + bilinear network (width 1, input [4, 1, 3, 16, 16]) and the same loss as trainer.ts's batchLoss
(focal on the representative slices + focal on the volume logit + batch-hard triplet on the L2-normalised
bilinear embedding), loaded with the weights voxelgrad initialised. Tells float32 conditioning from a bug:
where float64 PyTorch matches the float64 finite difference and float32 PyTorch is as far off as the GPU,
the gap is the float32 rounding of an ill-conditioned loss.

  VOXELGRAD_SEED=677576323,106 VOXELGRAD_FD_DUMP=/tmp/fd npx vitest run test/model/train-step.test.ts -t finite
  /usr/bin/python3 scripts/fd-seeds-torch.py /tmp/fd/seed-*.json

Per seed: the losses; per parameter tensor whose directional derivative differs by > 2e-2 anywhere (or
all with --all): the finite difference (fd), PyTorch float64 (t64) and float32 (t32) autograd and the GPU's
(gpu) along the test's direction, their relative gaps, and how far the exact (float64) derivative moves when
the smallest positive slice feature alone moves by 1e-6 (shift) — the test's "conditioning" explanation.
Needs Debian's python3-torch (1.13); tests never run it.
"""
import json
import math
import sys

import torch
import torch.nn.functional as F

SQRT_EPS = 1e-10
NORM_EPS = 1e-12


def forward_loss(d, dtype, feature_shift=None):
    """Loss and parameter leaves; feature_shift = (flat index, delta) is added to the slice features [N, C, D]."""
    P = {k: torch.tensor(v["value"], dtype=dtype).reshape(v["shape"]).requires_grad_(True) for k, v in d["params"].items()}
    x = torch.tensor(d["input"]["data"], dtype=dtype).reshape(d["input"]["shape"])

    def conv(name, h, stride, pad):
        return F.conv3d(h, P[name + ".weight"], None, stride, pad)

    def bn(name, h):
        return F.batch_norm(h, None, None, P[name + ".weight"], P[name + ".bias"], True, 0.1, 1e-5)

    h = F.relu(bn("bn1", conv("conv1", x, (1, 2, 2), (0, 3, 3))))
    h = F.max_pool3d(h, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    kinds = ["2d", "2d", "2d", "3d"]  # f-rMC5: 3-D convolutions in the last stage only
    for i in range(4):
        for j in range(2):
            nm = f"layer{i + 1}.{j}"
            pad = (1, 1, 1) if kinds[i] == "3d" else (0, 1, 1)
            stride = (1, 2, 2) if (j == 0 and i > 0) else (1, 1, 1)
            t = F.relu(bn(nm + ".bn1", conv(nm + ".conv1", h, stride, pad)))
            o = bn(nm + ".bn2", conv(nm + ".conv2", t, 1, pad))
            idn = bn(nm + ".downsample.1", conv(nm + ".downsample.0", h, stride, 0)) if (nm + ".downsample.0.weight") in P else h
            h = F.relu(o + idn)
    f = h.mean(dim=(3, 4))  # [N, C, D]
    if feature_shift is not None:
        delta = torch.zeros_like(f)
        delta.reshape(-1)[feature_shift[0]] = feature_shift[1]
        f = f + delta
    n, c, depth = f.shape
    slice_logits = F.linear(f.transpose(1, 2).reshape(n * depth, c), P["fc.weight"], P["fc.bias"]).reshape(-1)
    b = torch.bmm(f, f.transpose(1, 2)).reshape(n, c * c) / depth
    s = b / (torch.sqrt(b.abs() + SQRT_EPS) + math.sqrt(SQRT_EPS))
    y = s / torch.sqrt((s * s).sum(1, keepdim=True) + NORM_EPS)
    vol = F.linear(y, P["head_fc.weight"], P["head_fc.bias"]).reshape(n)
    cfg = d["loss"]
    labels = d["labels"]
    rows = [bb * depth + r for bb, rs in enumerate(d["repSlices"]) for r in rs]
    row_labels = torch.tensor([float(labels[bb]) for bb, rs in enumerate(d["repSlices"]) for _ in rs], dtype=dtype)

    def focal(logits, t):
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, t, reduction="none")
        pt = p * t + (1 - p) * (1 - t)
        return ((1 - pt) ** cfg["gamma"] * ce).mean()

    loss = cfg["sliceLossWeight"] * focal(slice_logits[rows], row_labels) + focal(vol, torch.tensor(labels, dtype=dtype))
    if cfg["triplet"] > 0:
        e = y / torch.sqrt((y * y).sum(1, keepdim=True) + NORM_EPS) if cfg["tripletNormalize"] else y
        dist = ((e[:, None, :] - e[None, :, :]) ** 2).sum(-1)
        lab = torch.tensor(labels)
        same = lab[:, None] == lab[None, :]
        eye = torch.eye(len(labels), dtype=torch.bool)
        per = []
        for a in range(len(labels)):
            pos, neg = same[a] & ~eye[a], ~same[a]
            if pos.any() and neg.any():
                per.append(F.relu(dist[a][pos].max() - dist[a][neg].min() + cfg["margin"]))
        if per:
            loss = loss + cfg["triplet"] * torch.stack(per).mean()
    return loss, P, f.detach()


def directional(d, dtype, feature_shift=None):
    loss, P, f = forward_loss(d, dtype, feature_shift)
    loss.backward()
    out = {}
    for k, p in P.items():
        v = torch.tensor(d["params"][k]["direction"], dtype=torch.float64)
        out[k] = float((p.grad.double().reshape(-1) * v).sum() / v.norm())
    return float(loss), out, f.double()


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-3)


def main(paths, show_all):
    for path in paths:
        with open(path) as fh:
            d = json.load(fh)
        l64, g64, f64 = directional(d, torch.float64)
        l32, g32, f32 = directional(d, torch.float32)
        flat = f64.reshape(-1)
        imin = int(torch.where(flat > 0, flat, torch.full_like(flat, math.inf)).argmin())
        _, gshift, _ = directional(d, torch.float64, (imin, 1e-6))
        print(f"seed {d['seed']}: loss torch f64 {l64:.8f}, f32 {l32:.8f}; smallest positive slice feature {float(flat[imin]):.3e} "
              f"(float32 error {abs(float(f32.reshape(-1)[imin] - flat[imin])):.1e}; largest float32 feature error {float((f32 - f64).abs().max()):.1e})")
        for k, p in d["params"].items():
            v = torch.tensor(p["direction"], dtype=torch.float64)
            gpu = float((torch.tensor(p["grad"], dtype=torch.float64) * v).sum() / v.norm())
            fd = d["numeric"][k]
            gaps = (rel(g64[k], fd), rel(g32[k], g64[k]), rel(gpu, g64[k]))
            if show_all or max(rel(gpu, fd), *gaps) > 2e-2:
                print(f"  {k:30s} fd {fd:+.4e} t64 {g64[k]:+.4e} t32 {g32[k]:+.4e} gpu {gpu:+.4e} | t64~fd {gaps[0]:.1e} "
                      f"t32~t64 {gaps[1]:.1e} gpu~t64 {gaps[2]:.1e} | shift 1e-6 {rel(gshift[k], g64[k]):.1e}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--all"]
    if not args:
        sys.exit(__doc__)
    main(args, "--all" in sys.argv[1:])
