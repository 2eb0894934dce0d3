// The register tile of the GEMM kernels that need no optional feature (matmul/matmul-tiled.wgsl,
// conv/forward-tiled.wgsl, conv/backward-input-tiled.wgsl, conv/backward-weight-tiled.wgsl): each
// invocation accumulates TM rows × TNQ column quads (4·TNQ columns) of the output in private vec4
// accumulators, tIQ = columns 4Q..4Q+3 of its column group's quads for row I. `rank1` adds one reduction
// element k — the TM rows' values a0..a7 at k times the invocation's quads b0..b3 of B at k — so a k-group
// of four (one vec4 of A per row, the layout every operand here is blocked into) is four calls.
// Accumulators past TM or TNQ are never touched: the guards are pipeline constants and fold away, and
// named variables (not an array) keep the tile in registers on the CPU drivers too (a private array
// indexed in a loop ran at 0.7× there). TM is 1, 2, 4 or 8; TNQ 1, 2 or 4. The host sets WG, TM and TNQ
// per adapter (src/kernels/tuning.ts). Expects nothing from the includer.
override WG: u32 = 64;
override TM: u32 = 4;
override TNQ: u32 = 1;
// Columns per panel of the packed operand (matmul/pack.wgsl), set by the kernel definitions from PANEL
// in src/kernels/tuning.ts: TN/4 column quads, TNQ of them per invocation.
override TN: u32;

// Invocations per column group: the WG invocations form TN/(4·TNQ) column groups, each owning TNQ of the
// panel's TN/4 column quads; an invocation's TM rows are this far apart.
fn groupInvocations() -> u32 {
  return WG / (TN / 4u / TNQ);
}

// Where invocation li of workgroup wid works: invocation (cg, lr) of column group cg owns rows mb + i·rl
// (i < TM; mb = the workgroup's first row + lr, wid.x counting blocks of rl·TM rows from rowBase) × the
// TNQ column quads from q0 = cg·TNQ of panel wid.y, whose first column is n0. Neighbouring invocations
// own neighbouring rows, so their loads of the row operand are adjacent.
struct TilePlace {
  mb: u32,
  rl: u32,
  q0: u32,
  n0: u32,
}

fn tilePlace(li: u32, wid: vec3<u32>, rowBase: u32) -> TilePlace {
  let rl = groupInvocations();
  let cg = li / rl;
  let q0 = cg * TNQ;
  return TilePlace(rowBase + wid.x * rl * TM + (li - cg * rl), rl, q0, wid.y * TN + q0 * 4u);
}

var<private> t00: vec4<f32>;
var<private> t01: vec4<f32>;
var<private> t02: vec4<f32>;
var<private> t03: vec4<f32>;
var<private> t10: vec4<f32>;
var<private> t11: vec4<f32>;
var<private> t12: vec4<f32>;
var<private> t13: vec4<f32>;
var<private> t20: vec4<f32>;
var<private> t21: vec4<f32>;
var<private> t22: vec4<f32>;
var<private> t23: vec4<f32>;
var<private> t30: vec4<f32>;
var<private> t31: vec4<f32>;
var<private> t32: vec4<f32>;
var<private> t33: vec4<f32>;
var<private> t40: vec4<f32>;
var<private> t41: vec4<f32>;
var<private> t42: vec4<f32>;
var<private> t43: vec4<f32>;
var<private> t50: vec4<f32>;
var<private> t51: vec4<f32>;
var<private> t52: vec4<f32>;
var<private> t53: vec4<f32>;
var<private> t60: vec4<f32>;
var<private> t61: vec4<f32>;
var<private> t62: vec4<f32>;
var<private> t63: vec4<f32>;
var<private> t70: vec4<f32>;
var<private> t71: vec4<f32>;
var<private> t72: vec4<f32>;
var<private> t73: vec4<f32>;

fn rowRank1(a: f32, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, c0: ptr<private, vec4<f32>>, c1: ptr<private, vec4<f32>>, c2: ptr<private, vec4<f32>>, c3: ptr<private, vec4<f32>>) {
  let s = vec4<f32>(a);
  *c0 = fma(s, b0, *c0);
  if (TNQ > 1u) { *c1 = fma(s, b1, *c1); }
  if (TNQ > 2u) { *c2 = fma(s, b2, *c2); *c3 = fma(s, b3, *c3); }
}

fn rank1(a0: f32, a1: f32, a2: f32, a3: f32, a4: f32, a5: f32, a6: f32, a7: f32, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
  rowRank1(a0, b0, b1, b2, b3, &t00, &t01, &t02, &t03);
  if (TM > 1u) { rowRank1(a1, b0, b1, b2, b3, &t10, &t11, &t12, &t13); }
  if (TM > 2u) {
    rowRank1(a2, b0, b1, b2, b3, &t20, &t21, &t22, &t23);
    rowRank1(a3, b0, b1, b2, b3, &t30, &t31, &t32, &t33);
  }
  if (TM > 4u) {
    rowRank1(a4, b0, b1, b2, b3, &t40, &t41, &t42, &t43);
    rowRank1(a5, b0, b1, b2, b3, &t50, &t51, &t52, &t53);
    rowRank1(a6, b0, b1, b2, b3, &t60, &t61, &t62, &t63);
    rowRank1(a7, b0, b1, b2, b3, &t70, &t71, &t72, &t73);
  }
}

// Accumulator (row i, quad q), for the stores after the reduction.
fn tile(i: u32, q: u32) -> vec4<f32> {
  switch (i * 4u + q) {
    case 0u: { return t00; }
    case 1u: { return t01; }
    case 2u: { return t02; }
    case 3u: { return t03; }
    case 4u: { return t10; }
    case 5u: { return t11; }
    case 6u: { return t12; }
    case 7u: { return t13; }
    case 8u: { return t20; }
    case 9u: { return t21; }
    case 10u: { return t22; }
    case 11u: { return t23; }
    case 12u: { return t30; }
    case 13u: { return t31; }
    case 14u: { return t32; }
    case 15u: { return t33; }
    case 16u: { return t40; }
    case 17u: { return t41; }
    case 18u: { return t42; }
    case 19u: { return t43; }
    case 20u: { return t50; }
    case 21u: { return t51; }
    case 22u: { return t52; }
    case 23u: { return t53; }
    case 24u: { return t60; }
    case 25u: { return t61; }
    case 26u: { return t62; }
    case 27u: { return t63; }
    case 28u: { return t70; }
    case 29u: { return t71; }
    case 30u: { return t72; }
    case 31u: { return t73; }
    default: { return vec4<f32>(); }
  }
}
