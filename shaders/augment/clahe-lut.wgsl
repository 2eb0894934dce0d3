// CLAHE, first stage: the equalisation map of every tile of every slice, as src/data/image-ops.ts clahe
// (OpenCV's CLAHE on values in [lo, hi] = the whole volume's [min, max] from stats[slot]).
// Tile (a, b) of a ty × tx grid covers rows ⌊a·H/ty⌋ … ⌊(a+1)·H/ty⌋ − 1 (columns alike). Its BINS-bin
// histogram is clipped at max(1, clip·area/BINS) with the excess spread evenly over all bins (clip 0 =
// no clipping); the map is lo + (hi − lo)·cumsum/area.
// Layout: `size` = (D, H, W) of one volume, x starts at src_base; luts [D, ty, tx, BINS].
// Threads: ONE workgroup of WG threads per (tile, slice): workgroup x = tile (a·tx + b), y = slice.
// The threads walk the tile's pixels with stride WG into an atomic histogram in workgroup memory; then
// thread 0 clips and sums the BINS counts in order (a serial pass over 256 bins is cheap next to the
// pixel walk, and three barriers in all keep CPU emulations fast: a 256-wide scan needed 28 and ran
// ~1 s per call on SwiftShader), and all threads write the map.
override WG: u32 = 64;
override BINS: u32 = 256;

struct Params { size: vec3<u32>, src_base: u32, tiles: vec2<u32>, clip: f32, slot: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> luts: array<f32>;

var<workgroup> hist: array<atomic<u32>, BINS>;
var<workgroup> cum: array<f32, BINS>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let H = params.size.y;
  let W = params.size.z;
  let ty = params.tiles.x;
  let tx = params.tiles.y;
  let a = wid.x / tx;
  let b = wid.x % tx;
  let d = wid.y;
  let y0 = (a * H) / ty;
  let y1 = ((a + 1u) * H) / ty;
  let x0 = (b * W) / tx;
  let x1 = ((b + 1u) * W) / tx;
  let tw = x1 - x0;
  let area = (y1 - y0) * tw;
  let lo = stats[params.slot].x;
  let hi = stats[params.slot].y;
  let flat = !(hi > lo); // constant volume: the maps are unused (clahe-apply copies), keep bins valid

  for (var i = li; i < BINS; i += WG) {
    atomicStore(&hist[i], 0u);
  }
  workgroupBarrier();
  let plane = params.src_base + d * H * W;
  for (var i = li; i < area; i += WG) {
    let v = x[plane + (y0 + i / tw) * W + x0 + i % tw];
    let t = select((v - lo) / (hi - lo) * f32(BINS), 0.0, flat);
    let bin = u32(clamp(floor(t), 0.0, f32(BINS - 1u)));
    atomicAdd(&hist[bin], 1u);
  }
  workgroupBarrier();
  if (li == 0u) {
    let clipped = params.clip > 0.0;
    let limit = max(1.0, params.clip * f32(area) / f32(BINS));
    var excess = 0.0;
    for (var i = 0u; i < BINS; i++) {
      let c = f32(atomicLoad(&hist[i]));
      if (clipped && c > limit) {
        excess += c - limit;
        cum[i] = limit;
      } else {
        cum[i] = c;
      }
    }
    let add = excess / f32(BINS);
    var s = 0.0;
    for (var i = 0u; i < BINS; i++) {
      s += cum[i] + add;
      cum[i] = s;
    }
  }
  workgroupBarrier();
  let out = ((d * ty + a) * tx + b) * BINS;
  for (var i = li; i < BINS; i += WG) {
    luts[out + i] = lo + (hi - lo) * cum[i] / f32(max(area, 1u));
  }
}
