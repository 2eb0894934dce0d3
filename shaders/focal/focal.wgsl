// Sigmoid focal loss, eq. (1) (Lin et al.; torchvision's sigmoid_focal_loss semantics), on the single
// logit z per sample, with its gradient, reduced on the GPU in one dispatch:
//   ce = t·softplus(−z) + (1 − t)·softplus(z),  1 − p_t = m = t·σ(−z) + (1 − t)·σ(z)
//   l  = α_t · m^γ · ce,   loss = Σ w·l / Σ w ('mean'; Σ w = N unweighted) or Σ w·l ('sum')
// Everything is computed from e = exp(−|z|) ≤ 1 (log space, no 1 − σ(z) anywhere), so |z| = 50 or 500
// stays finite and accurate. log1p is not in WGSL: a short atanh series below 0.25 keeps tiny
// softplus values exact (softplus(−50) = 1.9e−22), where log(1 + u) would round to 0.
// Bindings: logits [N], targets [N] in [0, 1], weights [N] (WEIGHTED = 1; else any read tensor),
// upstream [1] dLoss_total/dloss (HAS_UPSTREAM = 1; else any read tensor), loss [1], grad [N].
// Mapping: ONE workgroup; thread t handles samples t, t + WG, …; pass 1 writes the unscaled gradient
// and reduces (Σ w·l, Σ w) in workgroup memory (common/workgroup-reduce); pass 2 rescales the thread's own gradients by the
// reduction's 1/Σw (no cross-thread hazard). N is a batch of logits (hundreds), so one group suffices.
override WG: u32 = 256;
override WEIGHTED: u32 = 0u;
override HAS_UPSTREAM: u32 = 0u;
override MEAN: u32 = 1u;
alias WgValue = vec2<f32>;
#include "common/workgroup-reduce.part.wgsl"

// gammaInt: γ as an integer when it is one (≤ 64), else −1 (then pow() is used).
struct Params { n: u32, gamma: f32, alpha: f32, gammaInt: i32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> upstream: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;

// log(1 + u) for u in [0, 1]: 2·atanh(u / (2 + u)) as a series (error < 1e−11 relative) for small u.
fn log1p01(u: f32) -> f32 {
  if (u < 0.25) {
    let s = u / (2.0 + u);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
  }
  return log(1.0 + u);
}

// m^k for an integer k ≥ 0 by repeated multiplication (exact-to-rounding where pow's exp2/log2 is not).
fn powInt(m: f32, k: i32) -> f32 {
  var r = 1.0;
  for (var i = 0; i < k; i++) {
    r *= m;
  }
  return r;
}

fn powG(m: f32, g: f32, gi: i32) -> f32 {
  if (gi >= 0) {
    return powInt(m, gi);
  }
  if (m <= 0.0) {
    // 0^g for g ≤ 0 would be 1 or ∞; it is only asked for with dm = 0, where it is not used.
    return select(1.0, 0.0, g > 0.0);
  }
  return pow(m, g);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32) {
  let n = params.n;
  let gamma = params.gamma;
  let alpha = params.alpha;
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = li; i < n; i += WG) {
    let z = logits[i];
    let t = targets[i];
    let e = exp(-abs(z));
    let big = 1.0 / (1.0 + e); // σ(|z|)
    let small = e / (1.0 + e); // σ(−|z|)
    let sp = select(small, big, z >= 0.0); // σ(z)
    let sn = select(big, small, z >= 0.0); // σ(−z)
    let lp = log1p01(e);
    let ce = t * (max(-z, 0.0) + lp) + (1.0 - t) * (max(z, 0.0) + lp);
    let dce = (1.0 - t) * sp - t * sn;
    let m = t * sn + (1.0 - t) * sp;
    let dm = sp * sn * (1.0 - 2.0 * t);
    var md = 1.0;
    var dmd = 0.0;
    if (gamma != 0.0) {
      md = powG(m, gamma, params.gammaInt);
      // d(m^γ)/dz = γ·m^(γ−1)·dm, skipped when dm = 0 so an underflowed m cannot give 0·∞.
      if (dm != 0.0) {
        dmd = gamma * powG(m, gamma - 1.0, select(-1, params.gammaInt - 1, params.gammaInt >= 1)) * dm;
      }
    }
    let at = select(1.0, alpha * t + (1.0 - alpha) * (1.0 - t), alpha >= 0.0);
    var w = 1.0;
    if (WEIGHTED != 0u) {
      w = weights[i];
    }
    grad[i] = w * at * (dmd * ce + md * dce);
    acc += vec2<f32>(w * at * md * ce, w);
  }
  let total = workgroupSum(li, acc);
  var scale = 1.0;
  if (MEAN != 0u) {
    scale = 1.0 / select(f32(n), total.y, WEIGHTED != 0u);
  }
  if (li == 0u) {
    loss[0] = total.x * scale;
  }
  var gs = scale;
  if (HAS_UPSTREAM != 0u) {
    gs *= upstream[0];
  }
  for (var i = li; i < n; i += WG) {
    grad[i] = grad[i] * gs;
  }
}
