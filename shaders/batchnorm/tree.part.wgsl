// The workgroup tree of the per-channel reductions (stats, stats-reduce, backward-affine,
// backward-affine-reduce): tree(lid, mine) combines the WG threads' values pairwise in log2(WG) steps
// and returns the workgroup's result in thread 0 (every other thread gets its own value back). It has
// barriers, so call it from uniform control flow. A loop may call it again straight away, with no
// barrier between: every read of acc[k > 0] happens before the last barrier, and acc[0], read after
// it, is only ever written by thread 0.
// Provides: the workgroup array acc and fn tree. Expects from the includer: override WG (a power of
// two), alias Acc (the reduced value) and fn combine(a: Acc, b: Acc) -> Acc.
var<workgroup> acc: array<Acc, WG>;

fn tree(lid: u32, mine: Acc) -> Acc {
  acc[lid] = mine;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      acc[lid] = combine(acc[lid], acc[lid + h]);
    }
    workgroupBarrier();
  }
  var r = mine;
  if (lid == 0u) {
    r = acc[0];
  }
  return r;
}
