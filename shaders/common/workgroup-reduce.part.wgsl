// Workgroup reductions: workgroupSum(li, v) and workgroupMax(li, v) return the sum (the maximum) of v over
// all invocations of the workgroup, to every invocation. Tree reduction in workgroup memory: at each step
// h = WG/2, WG/4, …, 1 invocation li < h combines its partial with that of li + h, so the order is fixed
// (results are deterministic and identical in every workgroup that reduces the same values).
// Expects from the includer:
//   WG       invocations per workgroup (a const or an override; a power of two) — the array's size;
//   WgValue  the element type, as an alias: `alias WgValue = f32;` (or vec2<f32>, … — any type with + and max).
// Call from uniform control flow (there are barriers inside) with li = local_invocation_index. Calls may
// follow each other with no barrier in between: slot 0, which carries the result, is written only inside
// the tree (invocation 0 holds its first partial in a register), so only after every invocation has passed
// the call's first barrier — and so has read the previous call's result.
var<workgroup> wgReduce: array<WgValue, WG>;

fn workgroupReduce(li: u32, v: WgValue, takeMax: bool) -> WgValue {
  var acc = v;
  if (li != 0u || WG == 1u) {
    wgReduce[li] = v;
  }
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (li < h) {
      // acc is this invocation's slot: the same operands as wgReduce[li] += wgReduce[li + h].
      let other = wgReduce[li + h];
      if (takeMax) {
        acc = max(acc, other);
      } else {
        acc += other;
      }
      wgReduce[li] = acc;
    }
    workgroupBarrier();
  }
  return wgReduce[0];
}

fn workgroupSum(li: u32, v: WgValue) -> WgValue {
  return workgroupReduce(li, v, false);
}

fn workgroupMax(li: u32, v: WgValue) -> WgValue {
  return workgroupReduce(li, v, true);
}
