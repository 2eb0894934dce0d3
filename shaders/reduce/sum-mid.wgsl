// Sum over the middle axis of a contiguous [outer, mid, inner] view: out[o, j, i] = alpha · Σ x[o, m, i]
// over the rows m of chunk j (chunk j = rows [j·rows, (j + 1)·rows)); with one chunk this is the full
// reduction [outer, inner], with several the caller reduces the [outer, chunks, inner] partials again.
// Layout: any row-major tensor read as [outer, mid, inner] (e.g. NCDHW → [N·C·D, H·W, 1] for an
// in-plane sum, or [N, C, S] → [1, N, C·S] for a sum over the batch).
// Bindings: params (sizes, rows per chunk, chunk count, alpha); x; out [outer, chunks, inner].
// Threads: a TX × TY × TO workgroup; tx walks inner columns (adjacent threads, adjacent addresses:
// coalesced), ty strides through the chunk's rows, to picks one of TO outer indices (so short rows, as
// an 8×8 plane, still fill a workgroup). Workgroups: x = column blocks, y = chunks, z = blocks of TO
// outer indices (looped with stride num_workgroups.z past the per-dimension limit). The TY partial sums
// of each column are added in a workgroup-memory tree (TY a power of two, TX·TY·TO ≤ 256).
override TX: u32 = 64;
override TY: u32 = 4;
override TO: u32 = 1;

struct Params { outer: u32, mid: u32, inner: u32, rows: u32, chunks: u32, alpha: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(TX, TY, TO)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let col = wid.x * TX + lid.x;
  let r0 = wid.y * params.rows;
  let r1 = min(r0 + params.rows, params.mid);
  let slot = (lid.z * TY + lid.y) * TX + lid.x;
  for (var ob = wid.z * TO; ob < params.outer; ob += nwg.z * TO) {
    let o = ob + lid.z;
    var s = 0.0;
    if (col < params.inner && o < params.outer) {
      let base = o * params.mid * params.inner + col;
      for (var r = r0 + lid.y; r < r1; r += TY) {
        s += x[base + r * params.inner];
      }
    }
    part[slot] = s;
    workgroupBarrier();
    for (var h = TY / 2u; h > 0u; h >>= 1u) {
      if (lid.y < h) {
        part[slot] += part[slot + h * TX];
      }
      workgroupBarrier();
    }
    if (lid.y == 0u && col < params.inner && o < params.outer) {
      out[(o * params.chunks + wid.y) * params.inner + col] = params.alpha * part[slot];
    }
    workgroupBarrier();
  }
}
