#!/usr/bin/python3
"""PyTorch golden fixtures for the issue-3 kernels (conv3d, batch norm, max pool, in-plane average
pool, linear), in float64.

Run from the repository root with Debian's torch:  /usr/bin/python3 scripts/gen-golden-kernels.py
Writes one compact JSON file per case under test/fixtures/golden/kernels/<op>/<case>.json:

  {"schema": 1, "op": str, "case": str, "torch": torch.__version__, "dtype": "float64",
   "seed": int, "params": {...},
   "tensors": {name: {"shape": [int...], "data": [number...], "dtype"?: "int64"}}}

Gradients are those of the scalar sum(y * dy) for the random upstream gradient "dy" stored beside
them. Numbers are Python's shortest round-trip repr of each float64, so JSON.parse restores the exact
double. Tests never run this script; they read the committed JSON.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'golden', 'kernels')
DT = torch.float64


def tensor_json(t):
    t = t.detach().contiguous()
    entry = {'shape': list(t.shape)}
    if t.dtype in (torch.int64, torch.int32):
        entry['dtype'] = 'int64'
        entry['data'] = [int(v) for v in t.reshape(-1).tolist()]
    else:
        entry['data'] = [float(v) for v in t.to(DT).reshape(-1).tolist()]
    return entry


def write(op, case, seed, params, tensors):
    doc = {
        'schema': 1,
        'op': op,
        'case': case,
        'torch': torch.__version__,
        'dtype': 'float64',
        'seed': seed,
        'params': params,
        'tensors': {k: tensor_json(v) for k, v in tensors.items()},
    }
    d = os.path.join(OUT, op)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, case + '.json')
    with open(path, 'w') as f:
        json.dump(doc, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')
    return path


def randn(g, *shape, mean=0.0, std=1.0):
    return torch.randn(*shape, generator=g, dtype=DT) * std + mean


# (case, x shape, weight shape, stride, pad, dilation): every extent of the paper's family.
CONV_CASES = [
    ('k3x3x3_keep_n2', [2, 2, 5, 6, 7], [3, 2, 3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1]),
    ('k1x3x3_keep_n1', [1, 3, 3, 7, 6], [2, 3, 1, 3, 3], [1, 1, 1], [0, 1, 1], [1, 1, 1]),
    ('k1x3x3_s122_half_n2', [2, 2, 3, 9, 8], [3, 2, 1, 3, 3], [1, 2, 2], [0, 1, 1], [1, 1, 1]),
    ('k3x1x1_keep_n1', [1, 2, 5, 4, 5], [3, 2, 3, 1, 1], [1, 1, 1], [1, 0, 0], [1, 1, 1]),
    ('k1x7x7_stem_s122_n1', [1, 1, 3, 13, 12], [2, 1, 1, 7, 7], [1, 2, 2], [0, 3, 3], [1, 1, 1]),
    ('k3x7x7_stem_s122_n2', [2, 1, 4, 11, 10], [2, 1, 3, 7, 7], [1, 2, 2], [1, 3, 3], [1, 1, 1]),
    ('k1x1x1_down_s122_n2', [2, 3, 3, 7, 6], [4, 3, 1, 1, 1], [1, 2, 2], [0, 0, 0], [1, 1, 1]),
    ('k3x3x3_dil122_n1', [1, 2, 5, 9, 9], [2, 2, 3, 3, 3], [1, 1, 1], [1, 2, 2], [1, 2, 2]),
    # Every per-axis parameter distinct: pins the (depth, height, width) order of each triple.
    ('k2x3x2_s213_p102_d123_n1', [1, 2, 5, 6, 11], [2, 2, 2, 3, 2], [2, 1, 3], [1, 0, 2], [1, 2, 3]),
]


def gen_conv(seed):
    paths = []
    for i, (case, xs, ws, s, p, dl) in enumerate(CONV_CASES):
        g = torch.Generator().manual_seed(seed + i)
        x = randn(g, *xs).requires_grad_(True)
        w = randn(g, *ws, std=0.5).requires_grad_(True)
        y = F.conv3d(x, w, None, stride=s, padding=p, dilation=dl)
        dy = randn(g, *y.shape)
        dx, dw = torch.autograd.grad((y * dy).sum(), (x, w))
        paths.append(write('conv3d', case, seed + i, {'stride': s, 'pad': p, 'dilation': dl},
                           {'x': x, 'w': w, 'y': y, 'dy': dy, 'dx': dx, 'dw': dw}))
    return paths


# (case, x shape, mean offset of x, fused relu)
BN_TRAIN_CASES = [
    ('train_3d_n2', [2, 3, 3, 4, 5], 0.0, False),
    # A large mean relative to the spread: a one-pass E[x²] − E[x]² variance would lose digits here.
    ('train_3d_offset_n2', [2, 2, 3, 3, 4], 1000.0, False),
    ('train_2d_n3', [3, 4, 5, 6], 0.0, False),
    ('train_3d_n1', [1, 2, 3, 5, 4], 0.0, False),
    ('relu_train_3d_n2', [2, 3, 2, 4, 5], 0.0, True),
]
BN_EVAL_CASES = [
    ('eval_3d_n2', [2, 3, 3, 4, 5], False),
    ('eval_2d_n1', [1, 4, 5, 6], False),
    ('relu_eval_3d_n1', [1, 3, 2, 4, 5], True),
]
EPS = 1e-5
MOMENTUM = 0.1


def gen_batchnorm(seed):
    paths = []
    for i, (case, xs, offset, relu) in enumerate(BN_TRAIN_CASES):
        g = torch.Generator().manual_seed(seed + i)
        c = xs[1]
        x = randn(g, *xs, mean=offset, std=2.0).requires_grad_(True)
        gamma = randn(g, c, mean=1.0, std=0.3).requires_grad_(True)
        beta = randn(g, c, std=0.3).requires_grad_(True)
        rm0 = randn(g, c, std=0.5)
        rv0 = torch.rand(c, generator=g, dtype=DT) + 0.5
        rm, rv = rm0.clone(), rv0.clone()
        y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=MOMENTUM, eps=EPS)
        if relu:
            y = F.relu(y)
        dims = [0] + list(range(2, len(xs)))
        var, mean = torch.var_mean(x.detach(), dim=dims, unbiased=False)
        dy = randn(g, *xs)
        dx, dgamma, dbeta = torch.autograd.grad((y * dy).sum(), (x, gamma, beta))
        op = 'batchnorm'
        paths.append(write(op, case, seed + i,
                           {'training': True, 'relu': relu, 'eps': EPS, 'momentum': MOMENTUM},
                           {'x': x, 'gamma': gamma, 'beta': beta,
                            'runningMeanIn': rm0, 'runningVarIn': rv0,
                            'y': y, 'mean': mean, 'variance': var,
                            'runningMean': rm, 'runningVar': rv,
                            'dy': dy, 'dx': dx, 'dgamma': dgamma, 'dbeta': dbeta}))
    for j, (case, xs, relu) in enumerate(BN_EVAL_CASES):
        sd = seed + 100 + j
        g = torch.Generator().manual_seed(sd)
        c = xs[1]
        x = randn(g, *xs, mean=0.5, std=2.0)
        gamma = randn(g, c, mean=1.0, std=0.3)
        beta = randn(g, c, std=0.3)
        rm = randn(g, c, std=0.5)
        rv = torch.rand(c, generator=g, dtype=DT) + 0.5
        y = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=EPS)
        if relu:
            y = F.relu(y)
        paths.append(write('batchnorm', case, sd,
                           {'training': False, 'relu': relu, 'eps': EPS},
                           {'x': x, 'gamma': gamma, 'beta': beta,
                            'runningMean': rm, 'runningVar': rv, 'y': y}))
    return paths


# (case, x shape, kernel, stride, pad, dilation, integer-valued x to force ties)
POOL_CASES = [
    ('stem_k133_s122_p011_n2', [2, 2, 3, 9, 8], [1, 3, 3], [1, 2, 2], [0, 1, 1], [1, 1, 1], False),
    ('stem_odd_n1', [1, 3, 2, 7, 7], [1, 3, 3], [1, 2, 2], [0, 1, 1], [1, 1, 1], False),
    # Values in {0, 1, 2} with overlapping windows: many ties, checks the first-maximum rule.
    ('stem_ties_n1', [1, 2, 2, 6, 7], [1, 3, 3], [1, 2, 2], [0, 1, 1], [1, 1, 1], True),
    ('general_k233_s121_p111_d112_n2', [2, 2, 4, 6, 9], [2, 3, 3], [1, 2, 1], [1, 1, 1], [1, 1, 2], False),
]


def gen_maxpool(seed):
    paths = []
    for i, (case, xs, k, s, p, dl, ties) in enumerate(POOL_CASES):
        g = torch.Generator().manual_seed(seed + i)
        if ties:
            x = torch.randint(0, 3, xs, generator=g).to(DT)
        else:
            x = randn(g, *xs)
        x.requires_grad_(True)
        y, idx = F.max_pool3d(x, k, stride=s, padding=p, dilation=dl, return_indices=True)
        dy = randn(g, *y.shape)
        (dx,) = torch.autograd.grad((y * dy).sum(), (x,))
        paths.append(write('maxpool', case, seed + i,
                           {'kernel': k, 'stride': s, 'pad': p, 'dilation': dl},
                           {'x': x, 'y': y, 'argmax': idx, 'dy': dy, 'dx': dx}))
    return paths


def gen_small(seed):
    paths = []
    g = torch.Generator().manual_seed(seed)
    x = randn(g, 2, 3, 4, 5, 7).requires_grad_(True)
    y = x.mean(dim=(3, 4))
    dy = randn(g, *y.shape)
    (dx,) = torch.autograd.grad((y * dy).sum(), (x,))
    paths.append(write('plane-avgpool', 'n2_c3_d4_5x7', seed, {}, {'x': x, 'y': y, 'dy': dy, 'dx': dx}))

    g = torch.Generator().manual_seed(seed + 1)
    x = randn(g, 5, 7).requires_grad_(True)
    w = randn(g, 3, 7, std=0.4).requires_grad_(True)
    b = randn(g, 3).requires_grad_(True)
    y = F.linear(x, w, b)
    dy = randn(g, *y.shape)
    dx, dw, db = torch.autograd.grad((y * dy).sum(), (x, w, b))
    paths.append(write('linear', 'm5_in7_out3', seed + 1, {},
                       {'x': x, 'w': w, 'b': b, 'y': y, 'dy': dy, 'dx': dx, 'dw': dw, 'db': db}))
    return paths


def main():
    torch.use_deterministic_algorithms(True)
    paths = gen_conv(1000) + gen_batchnorm(2000) + gen_maxpool(3000) + gen_small(4000)
    total = 0
    for p in paths:
        total += os.path.getsize(p)
    print(f'torch {torch.__version__}: wrote {len(paths)} fixtures, {total / 1024:.1f} KiB under '
          f'{os.path.relpath(OUT, ROOT)}', file=sys.stderr)


if __name__ == '__main__':
    main()
