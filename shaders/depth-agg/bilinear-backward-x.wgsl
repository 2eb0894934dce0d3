// Bilinear backward, step 2 of 2: the whole chain back to x in one tiled product.
//   normalisation: gs = (gy − y·(y·gy)) / norm
//   signed sqrt:   gb = gs / (2·sqrt(|b| + ε)) = gs / (2·(|s| + √ε)), with |s| = |y|·norm — exact for the
//                  shifted signed sqrt, so B need not be saved; the slope stays ≤ 1/(2√ε) at b = 0
//   outer product: gx[n, i, d] = (1/D) Σ_j (gb[i, j] + gb[j, i]) · x[n, j, d]
// Bindings: x [N, C, D]; y [N, C·C] forward output; gy [N, C·C] upstream; norm [N] saved norms;
// partial [N, Q] dot partials from bilinear-backward-dot; gx [N, C, D] output.
// Mapping: workgroup (wx, wy, n) computes gx rows i0 = wy·TILE.., slices d0 = wx·TILE.. of sample n;
// thread (ly, lx) owns gx[i0+ly, d0+lx]. Per j-chunk of TILE, the gradient block gb[i0.., j0..] is built
// in `ga` and its transpose block gb[j0.., i0..] in `gt` (both loaded coalesced), x rows j0.. in `xs`.
override TILE: u32 = 16;

struct Params { channels: u32, depth: u32, chunks: u32, rootSqrtEps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> gy: array<f32>;
@group(0) @binding(4) var<storage, read> norm: array<f32>;
@group(0) @binding(5) var<storage, read> partial: array<f32>;
@group(0) @binding(6) var<storage, read_write> gx: array<f32>;

var<workgroup> ga: array<f32, TILE * TILE>;
var<workgroup> gt: array<f32, TILE * TILE>;
var<workgroup> xs: array<f32, TILE * TILE>;
var<workgroup> red: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let c = params.channels;
  let dd = params.depth;
  let n = wid.z;
  // Σ y·gy of this sample from its chunk partials (same order in every workgroup).
  var s = 0.0;
  for (var t = li; t < params.chunks; t += TILE * TILE) {
    s += partial[n * params.chunks + t];
  }
  red[li] = s;
  workgroupBarrier();
  for (var h = TILE * TILE / 2u; h > 0u; h >>= 1u) {
    if (li < h) {
      red[li] += red[li + h];
    }
    workgroupBarrier();
  }
  let dot = red[0];
  let nrm = norm[n];
  let mo = n * c * c;
  let xo = n * c * dd;
  let i0 = wid.y * TILE;
  let d0 = wid.x * TILE;
  var acc = 0.0;
  for (var j0 = 0u; j0 < c; j0 += TILE) {
    // ga[ly][lx] = gb[i0+ly, j0+lx];  gt[ly][lx] = gb[j0+ly, i0+lx]
    let ra = i0 + lid.y;
    let ca = j0 + lid.x;
    var va = 0.0;
    if (ra < c && ca < c) {
      let yv = y[mo + ra * c + ca];
      va = (gy[mo + ra * c + ca] - yv * dot) / (2.0 * nrm * (abs(yv) * nrm + params.rootSqrtEps));
    }
    ga[lid.y * TILE + lid.x] = va;
    let rt = j0 + lid.y;
    let ct = i0 + lid.x;
    var vt = 0.0;
    if (rt < c && ct < c) {
      let yv = y[mo + rt * c + ct];
      vt = (gy[mo + rt * c + ct] - yv * dot) / (2.0 * nrm * (abs(yv) * nrm + params.rootSqrtEps));
    }
    gt[lid.y * TILE + lid.x] = vt;
    let rx = j0 + lid.y;
    let dx = d0 + lid.x;
    var vx = 0.0;
    if (rx < c && dx < dd) {
      vx = x[xo + rx * dd + dx];
    }
    xs[lid.y * TILE + lid.x] = vx;
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += (ga[lid.y * TILE + k] + gt[k * TILE + lid.y]) * xs[k * TILE + lid.x];
    }
    workgroupBarrier();
  }
  let i = i0 + lid.y;
  let d = d0 + lid.x;
  if (i < c && d < dd) {
    gx[xo + i * dd + d] = acc / f32(dd);
  }
}
