#!/usr/bin/python3
"""PyTorch golden fixtures for the losses, depth aggregations, activations, SGD and Adam.

Run with /usr/bin/python3 (torch 1.13, float64 throughout):

    /usr/bin/python3 scripts/gen-golden-losses.py [name ...]      # all, or e.g. `adam` only

Writes compact JSON files to test/fixtures/golden/kernels/<name>/<name>.json, one folder per op as the kernel goldens (activations, focal, depth-agg, center,
triplet, sgd, adam). Every file records "torch": torch.__version__ and "generator": this script; every
array is flat, row-major, with its shape given beside it. Gradients come from autograd.

torchvision is not installed, so the focal loss is torchvision.ops.sigmoid_focal_loss re-typed from
its documented definition (see sigmoid_focal_loss below); the weighted mean is sum(w*l)/sum(w).
The bilinear chain uses our signed square root (b / (sqrt(|b| + eps) + sqrt(eps)), see
src/kernels/depth-agg.ref.ts) and torch.nn.functional.normalize for the L2 step.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'golden', 'kernels')
SQRT_EPS = 1e-10  # must equal SIGNED_SQRT_EPS in src/kernels/depth-agg.ref.ts
GEN = torch.Generator().manual_seed(20220904)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def randn(*shape):
    return torch.randn(*shape, generator=GEN)


def rand(*shape):
    return torch.rand(*shape, generator=GEN)


def write(name, obj):
    obj = {'torch': torch.__version__, 'generator': 'scripts/gen-golden-losses.py', **obj}
    os.makedirs(os.path.join(OUT, name), exist_ok=True)
    path = os.path.join(OUT, name, name + '.json')
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'{path}: {os.path.getsize(path)} bytes')


# ------------------------------------------------------------------------------------------------
# activations

def gen_activations():
    x = torch.tensor([-800.0, -50.0, -20.0, -3.5, -1.0, -1e-3, 0.0, 1e-3, 0.7, 2.0, 20.0, 50.0, 800.0])
    up = randn(x.numel())
    ops = {}
    for name, fn in [('sigmoid', torch.sigmoid), ('logSigmoid', F.logsigmoid), ('softplus', F.softplus)]:
        xi = x.clone().requires_grad_(True)
        y = fn(xi)
        (gx,) = torch.autograd.grad((y * up).sum(), xi)
        ops[name] = {'y': flat(y), 'gradX': flat(gx)}
    rows = torch.stack([randn(5) * 3, torch.tensor([1000.0, 999.0, -1000.0, 0.0, 1000.0]), torch.zeros(5)])
    rows.requires_grad_(True)
    up2 = randn(3, 5)
    y = torch.softmax(rows, dim=1)
    (gx,) = torch.autograd.grad((y * up2).sum(), rows)
    write('activations', {
        'elementwise': {'x': flat(x), 'upstream': flat(up), **ops},
        'softmax': {'shape': [3, 5], 'x': flat(rows), 'upstream': flat(up2), 'y': flat(y), 'gradX': flat(gx)},
    })


# ------------------------------------------------------------------------------------------------
# focal loss

def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction='none'):
    """torchvision.ops.sigmoid_focal_loss (torchvision 0.14), re-typed from its definition."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction='none')
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == 'mean':
        loss = loss.mean()
    elif reduction == 'sum':
        loss = loss.sum()
    return loss


def focal_case(name, logits, targets, gamma, alpha, reduction='mean', weights=None):
    z = logits.clone().requires_grad_(True)
    per = sigmoid_focal_loss(z, targets, alpha=alpha, gamma=gamma, reduction='none')
    if weights is None:
        loss = per.mean() if reduction == 'mean' else per.sum()
    else:
        loss = (weights * per).sum() / weights.sum() if reduction == 'mean' else (weights * per).sum()
    (g,) = torch.autograd.grad(loss, z)
    return {
        'name': name, 'gamma': gamma, 'alpha': alpha, 'reduction': reduction,
        'weights': None if weights is None else flat(weights),
        'logits': flat(logits), 'targets': flat(targets),
        'loss': float(loss), 'perSample': flat(per), 'grad': flat(g),
    }


def gen_focal():
    n = 16
    z = randn(n) * 3
    t = (rand(n) < 0.4).double()
    big = torch.tensor([50.0, -50.0, 50.0, -50.0, 30.0, -30.0, 20.0, -20.0, 0.0, 0.0])
    tb = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    w = rand(n) * 2
    w[3] = 0.0
    cases = [
        focal_case('random-alpha-unset', z, t, 2.0, -1.0),
        focal_case('random-alpha-0.25', z, t, 2.0, 0.25),
        focal_case('random-gamma-0-bce', z, t, 0.0, -1.0),
        focal_case('random-gamma-1.5-alpha-0.75-sum', z, t, 1.5, 0.75, 'sum'),
        focal_case('large-logits-alpha-unset', big, tb, 2.0, -1.0),
        focal_case('large-logits-alpha-0.25', big, tb, 2.0, 0.25),
        focal_case('weighted-mean-alpha-0.25', z, t, 2.0, 0.25, 'mean', w),
        focal_case('weighted-sum', z, t, 2.0, -1.0, 'sum', w),
        focal_case('soft-targets', z, rand(n), 2.0, 0.25),
    ]
    write('focal', {
        'note': 'torchvision sigmoid_focal_loss semantics (re-typed; torchvision not installed); '
                'alpha < 0 = disabled; weighted mean = sum(w*l)/sum(w); grad = d loss / d logits',
        'cases': cases,
    })


# ------------------------------------------------------------------------------------------------
# depth aggregations [N, C, D] -> [N, C']

def signed_sqrt(b, eps=SQRT_EPS):
    return b / (torch.sqrt(torch.abs(b) + eps) + math.sqrt(eps))


def depth_agg(kind, x):
    n, c, d = x.shape
    if kind == 'avg':
        return x.mean(dim=2)
    if kind == 'max':
        return x.max(dim=2).values
    if kind == 'attention':
        return (torch.softmax(x, dim=2) * x).sum(dim=2)
    if kind == 'bilinear':
        b = torch.bmm(x, x.transpose(1, 2)).reshape(n, c * c) / d
        return F.normalize(signed_sqrt(b), p=2.0, dim=1, eps=1e-12)
    raise ValueError(kind)


def agg_case(name, kind, x):
    xi = x.clone().requires_grad_(True)
    y = depth_agg(kind, xi)
    up = randn(*y.shape)
    (g,) = torch.autograd.grad((y * up).sum(), xi)
    return {'name': name, 'kind': kind, 'shape': list(x.shape), 'x': flat(x), 'upstream': flat(up),
            'y': flat(y), 'gradX': flat(g)}


def gen_depth_agg():
    cases = []
    for kind in ['avg', 'max', 'attention', 'bilinear']:
        cases.append(agg_case(f'{kind}-random', kind, randn(2, 6, 5)))
        cases.append(agg_case(f'{kind}-d1', kind, randn(2, 4, 1)))
    cases.append(agg_case('attention-large-features', 'attention', randn(2, 3, 4) * 300))
    cases.append(agg_case('bilinear-relu-features', 'bilinear', torch.relu(randn(2, 6, 4))))
    cases.append(agg_case('bilinear-all-equal', 'bilinear', torch.full((1, 4, 3), 0.5)))
    cases.append(agg_case('bilinear-d24', 'bilinear', torch.relu(randn(1, 8, 24))))
    write('depth-agg', {
        'note': 'x is [N,C,D]; bilinear = F.normalize(signed_sqrt(bmm(x, x^T)/D)) with '
                'signed_sqrt(b) = b/(sqrt(|b|+sqrtEps)+sqrt(sqrtEps)); gradX = autograd of sum(y*upstream)',
        'sqrtEps': SQRT_EPS,
        'normalize': 'torch.nn.functional.normalize(p=2, dim=1, eps=1e-12)',
        'cases': cases,
    })


# ------------------------------------------------------------------------------------------------
# center loss (Wen et al.)

def center_case(name, x, labels, centers, lam, reduction, alpha):
    xi = x.clone().requires_grad_(True)
    ci = centers.clone().requires_grad_(True)
    sq = ((xi - ci[labels]) ** 2).sum()
    loss = lam * 0.5 * sq / (x.shape[0] if reduction == 'mean' else 1)
    gx, gc = torch.autograd.grad(loss, [xi, ci])
    k = centers.shape[0]
    counts = torch.bincount(labels, minlength=k).double()
    delta = torch.zeros_like(centers).index_add_(0, labels, centers[labels] - x)
    new_centers = centers - alpha * delta / (1 + counts)[:, None]
    return {'name': name, 'shape': list(x.shape), 'numClasses': k, 'lambda': lam, 'reduction': reduction,
            'alpha': alpha, 'x': flat(x), 'labels': labels.tolist(), 'centers': flat(centers),
            'loss': float(loss), 'gradX': flat(gx), 'gradCenters': flat(gc), 'updatedCenters': flat(new_centers)}


def gen_center():
    x = randn(8, 5)
    c = randn(3, 5)
    cases = [
        center_case('random-sum', x, torch.tensor([0, 1, 2, 0, 1, 1, 2, 0]), c, 1.0, 'sum', 0.5),
        center_case('random-mean-lambda', x, torch.tensor([0, 1, 2, 0, 1, 1, 2, 0]), c, 0.003, 'mean', 0.5),
        center_case('one-class', x, torch.zeros(8, dtype=torch.long), c, 1.0, 'sum', 0.5),
        center_case('class-absent', x[:5], torch.tensor([2, 0, 2, 2, 0]), c, 0.5, 'sum', 0.9),
    ]
    write('center', {'note': 'loss = lambda/2 * sum ||x_i - c_{y_i}||^2 (/N for mean); updatedCenters = '
                             'c_j - alpha * sum_{y_i=j}(c_j - x_i)/(1 + n_j)', 'cases': cases})


# ------------------------------------------------------------------------------------------------
# batch-hard triplet loss

def triplet_case(name, x, labels, margin, normalize):
    xi = x.clone().requires_grad_(True)
    f = F.normalize(xi, p=2.0, dim=1, eps=1e-12) if normalize else xi
    dist = ((f[:, None, :] - f[None, :, :]) ** 2).sum(dim=2)
    dd = dist.detach()
    lab = labels.tolist()
    n = len(lab)
    hp, hn, terms = [-1] * n, [-1] * n, []
    for a in range(n):
        p = q = -1
        for j in range(n):  # strict comparisons: the first index wins ties
            if lab[j] == lab[a]:
                if j != a and (p < 0 or dd[a, j] > dd[a, p]):
                    p = j
            elif q < 0 or dd[a, j] < dd[a, q]:
                q = j
        if p >= 0 and q >= 0:
            hp[a], hn[a] = p, q
            terms.append(F.relu(dist[a, p] - dist[a, q] + margin))
    loss = torch.stack(terms).mean() if terms else (xi * 0).sum()
    (g,) = torch.autograd.grad(loss, xi)
    return {'name': name, 'shape': list(x.shape), 'margin': margin, 'normalize': normalize,
            'x': flat(x), 'labels': lab, 'loss': float(loss), 'grad': flat(g),
            'hardPositive': hp, 'hardNegative': hn, 'validAnchors': len(terms)}


def gen_triplet():
    x = randn(10, 6)
    lab = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 1, 0])
    dup = randn(8, 4)
    dup[3] = dup[0]  # same class duplicate (positive at distance 0)
    dup[5] = dup[0]  # other class duplicate (negative at distance 0)
    dup[6] = dup[2]
    dup_lab = torch.tensor([0, 1, 1, 0, 1, 1, 0, 0])
    cases = [
        triplet_case('random-margin-1', x, lab, 1.0, False),
        triplet_case('random-margin-0.2', x * 0.2, lab, 0.2, False),
        triplet_case('random-normalized', x, lab, 0.5, True),
        triplet_case('duplicates', dup, dup_lab, 0.3, False),
        triplet_case('duplicates-normalized', dup, dup_lab, 0.3, True),
        triplet_case('some-anchors-invalid', x[:7], torch.tensor([0, 1, 0, 1, 3, 4, 1]), 2.0, False),
        triplet_case('one-class', x[:6], torch.zeros(6, dtype=torch.long), 0.5, False),
        triplet_case('all-singletons', x[:5], torch.arange(5), 0.5, False),
    ]
    write('triplet', {'note': 'squared Euclidean distances; batch-hard mining, ties -> first index; mean over '
                              'anchors with >= 1 positive and >= 1 negative; no valid anchor -> loss 0, grad 0; '
                              'normalize uses F.normalize(eps=1e-12)', 'cases': cases})


# ------------------------------------------------------------------------------------------------
# SGD and learning-rate schedules

def sgd_case(name, steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, n=7):
    p0 = randn(n)
    grads = [randn(n) for _ in range(steps)]
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                          nesterov=nesterov)
    params = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        params.append(flat(p))
    buf = opt.state[p].get('momentum_buffer')
    return {'name': name, 'lr': lr, 'momentum': momentum, 'dampening': dampening, 'weightDecay': weight_decay,
            'nesterov': nesterov, 'param0': flat(p0), 'grads': [flat(g) for g in grads], 'params': params,
            'finalBuf': None if buf is None else flat(buf)}


def schedule_lrs(make, lr, epochs):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return lrs


def gen_sgd():
    cases = [
        sgd_case('paper-lr-wd-momentum-0.9', 5, 0.01, momentum=0.9, weight_decay=0.01),
        sgd_case('plain', 3, 0.1),
        sgd_case('weight-decay-only', 3, 0.05, weight_decay=0.01),
        sgd_case('dampening', 4, 0.02, momentum=0.8, dampening=0.3, weight_decay=0.1),
        sgd_case('nesterov', 4, 0.03, momentum=0.9, weight_decay=0.01, nesterov=True),
    ]
    schedules = [
        {'schedule': {'kind': 'step', 'lr': 0.01, 'stepSize': 3, 'gamma': 0.5},
         'lrs': schedule_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 0.01, 10)},
        {'schedule': {'kind': 'cosine', 'lr': 0.01, 'T': 10, 'minLr': 0.001},
         'lrs': schedule_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
                             0.01, 11)},
        {'schedule': {'kind': 'cosine', 'lr': 0.1, 'T': 7},
         'lrs': schedule_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7), 0.1, 8)},
    ]
    write('sgd', {'note': 'torch.optim.SGD; params[k] = parameters after step k+1; finalBuf = momentum buffer after '
                          'the last step; lrs[e] = scheduler.get_last_lr() at epoch e', 'cases': cases,
                  'schedules': schedules})


# ------------------------------------------------------------------------------------------------
# Adam and AdamW (own generator, so this file does not shift the others' random draws)

ADAM_GEN = torch.Generator().manual_seed(20221120)


def adam_case(name, steps, lr, decoupled, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, n=7, lrs=None):
    p0 = torch.randn(n, generator=ADAM_GEN)
    # Gradients of mixed scale (the second moment matters), one step with a zero gradient.
    grads = [torch.randn(n, generator=ADAM_GEN) * (10.0 ** (k % 3 - 1)) for k in range(steps)]
    grads[min(2, steps - 1)][0] = 0.0
    p = torch.nn.Parameter(p0.clone())
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    lrs = lrs or [lr] * steps
    params = []
    for g, l in zip(grads, lrs):
        for grp in opt.param_groups:
            grp['lr'] = l
        p.grad = g.clone()
        opt.step()
        params.append(flat(p))
    st = opt.state[p]
    return {'name': name, 'lrs': lrs, 'beta1': betas[0], 'beta2': betas[1], 'eps': eps, 'weightDecay': weight_decay,
            'decoupled': decoupled, 'param0': flat(p0), 'grads': [flat(g) for g in grads], 'params': params,
            'finalM': flat(st['exp_avg']), 'finalV': flat(st['exp_avg_sq']), 'steps': int(st['step'])}


def gen_adam():
    cases = [
        adam_case('adamw-wd-0.01', 6, 1e-3, True, weight_decay=0.01),
        adam_case('adam-l2', 5, 1e-2, False, weight_decay=0.05),
        adam_case('adamw-betas-eps', 4, 3e-3, True, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        adam_case('adamw-lr-schedule', 5, 2e-3, True, weight_decay=0.01, lrs=[2e-3, 1.5e-3, 1e-3, 5e-4, 1e-4]),
        adam_case('adam-no-decay', 3, 0.1, False),
    ]
    write('adam', {'note': 'torch.optim.Adam (decoupled false) / AdamW (true), amsgrad off; the lr is set before each '
                           'step from lrs; params[k] = parameters after step k+1; finalM/finalV = exp_avg/exp_avg_sq',
                   'cases': cases})


GENERATORS = {'activations': lambda: gen_activations(), 'focal': lambda: gen_focal(), 'depth-agg': lambda: gen_depth_agg(),
              'center': lambda: gen_center(), 'triplet': lambda: gen_triplet(), 'sgd': lambda: gen_sgd(),
              'adam': lambda: gen_adam()}

if __name__ == '__main__':
    import sys
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(GENERATORS)
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        sys.exit(f'unknown fixture(s) {unknown}; known: {list(GENERATORS)}')
    if names != list(GENERATORS) and any(n != 'adam' for n in names):
        # The others share one random stream: they are only reproducible when generated together, in order.
        sys.exit('activations … sgd share one random stream: generate them all (no arguments) or adam alone')
    for n in names:
        GENERATORS[n]()
