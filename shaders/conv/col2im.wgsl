// Gathers the input gradient of a thin-input convolution from its tap-by-tap products, NCDHW, for one
// input channel ci and a range of tap rows (kd, kh) at a time (so the products fit one binding):
// cols [N, rowCount·kW, Do, Ho, Wo] holds, for every dy position, Σ_co w[co, ci, tap]·dy[n, co, ·] for the
// taps of rows rowFirst..rowFirst+rowCount−1 (computed by conv/forward.wgsl as a 1×1×1 convolution of dy), and
//   dx[n, ci, z, y, x] (+)= Σ_{those taps reaching (z, y, x)} cols[n, tap − rowFirst·kW, (z + pD − a·dD)/sD, …],
// written for the first range and accumulated for the others (ACCUMULATE).
// Used when Cin is too small to fill the 16-channel panels of conv/backward-input.wgsl (the stem, Cin = 1).
// Threads: one per dx element of one stride phase (wid.z; positions with equal remainders mod the
// stride), so the set of reaching taps is the same for the whole workgroup and the tap loops are
// uniform; only the range check of the dy coordinate is per element.
override WG: u32 = 64;

struct Params {
  #include "conv/geometry.part.wgsl"
  n: u32,
  cin: u32,
  ci: u32,
  rowFirst: u32,
  rowCount: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

// The taps along one axis that reach positions with remainder `rem` mod the stride s: the first one t0
// (k if none), the dy offset q0 = (rem + pad − t0·dil)/s it reads at, the tap step and the offset's
// decrease per step (taps t0 + i·step all divide exactly: step = s / gcd(s, dil)).
fn axisTaps(rem: u32, pad: u32, dil: u32, s: u32, k: u32) -> vec4<i32> {
  var step = s;
  for (var t = 1u; t <= s; t++) {
    if ((t * dil) % s == 0u) {
      step = t;
      break;
    }
  }
  for (var t = 0u; t < min(k, step); t++) {
    let num = i32(rem + pad) - i32(t * dil);
    if (((num % i32(s)) + i32(s)) % i32(s) == 0) {
      return vec4<i32>(i32(t), num / i32(s), i32(step), i32(step * dil / s));
    }
  }
  return vec4<i32>(i32(k), 0, 1, 0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let st = params.stride;
  let rem = vec3<u32>(wid.z / (st.y * st.z), (wid.z / st.z) % st.y, wid.z % st.z);
  let s = params.inSize;
  let count = select(vec3<u32>(0u), (s - rem + st - vec3<u32>(1u)) / st, rem < s);
  let plane = count.x * count.y * count.z;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.n * plane) {
    return;
  }
  let n = idx / plane;
  let r = idx - n * plane;
  let jz = r / (count.y * count.z);
  let r2 = r - jz * count.y * count.z;
  let jy = r2 / count.z;
  let jx = r2 - jy * count.z;
  let j = vec3<i32>(vec3<u32>(jz, jy, jx));
  let o = params.outSize;
  let os = vec3<i32>(o);
  let k = params.kernel;
  let oplane = o.x * o.y * o.z;
  let base = i32(n * params.rowCount * k.z * oplane);
  let rowEnd = params.rowFirst + params.rowCount;
  // Uniform per workgroup: which taps reach this phase and where they read dy.
  let tz = axisTaps(rem.x, params.pad.x, params.dilation.x, st.x, k.x);
  let ty = axisTaps(rem.y, params.pad.y, params.dilation.y, st.y, k.y);
  let tx = axisTaps(rem.z, params.pad.z, params.dilation.z, st.z, k.z);
  var acc = 0.0;
  var qz = tz.y;
  for (var a = tz.x; a < i32(k.x); a += tz.z) {
    let z = j.x + qz;
    var qy = ty.y;
    for (var b = ty.x; b < i32(k.y); b += ty.z) {
      let y = j.y + qy;
      qy -= ty.w;
      let tapRow = u32(a) * k.y + u32(b);
      if (tapRow < params.rowFirst || tapRow >= rowEnd) {
        continue;
      }
      let okZY = (z >= 0) & (z < os.x) & (y >= 0) & (y < os.y);
      let rowAt = base + i32((tapRow - params.rowFirst) * k.z * oplane) + (z * os.y + y) * os.z;
      var qx = tx.y;
      for (var t = tx.x; t < i32(k.z); t += tx.z) {
        let x = j.z + qx;
        let ok = okZY & (x >= 0) & (x < os.z);
        acc += select(0.0, cols[u32(select(0, rowAt + t * i32(oplane) + x, ok))], ok);
        qx -= tx.w;
      }
    }
    qz -= tz.w;
  }
  let c = rem + vec3<u32>(jz, jy, jx) * st;
  let at = ((n * params.cin + params.ci) * s.x + c.x) * s.y * s.z + c.y * s.z + c.z;
  if (params.accumulate != 0u) {
    acc += dx[at];
  }
  dx[at] = acc;
}
