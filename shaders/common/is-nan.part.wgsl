// isNan(v): whether v is a NaN, tested on the bit pattern (exponent all ones, mantissa not zero) rather
// than as v != v, which compilers may fold to false because they assume floats are never NaN.
// Used by the max poolings, where a NaN wins and propagates (as torch.max). Expects nothing.
fn isNan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}
