// Bilinear sampling of one H×W plane at a continuous position (pixel centres at integers, reflect-101
// borders, as src/data/image-ops.ts sampleBilinear), shared by augment/field.wgsl (the elastic noise)
// and augment/resample.wgsl (the volume). WGSL cannot pass a storage array to a function, so
// bilinear_taps returns the four in-plane offsets and the weights, the includer loads the four values
// from its own array and bilinear_blend mixes them. Needs nothing from the includer.

// Reflect-101 of a continuous coordinate into [0, n − 1] (the integer form: augment/reflect.part.wgsl).
fn reflect_coord(c: f32, n: u32) -> f32 {
  if (c >= 0.0 && c <= f32(n - 1u)) {
    return c;
  }
  if (n == 1u) {
    return 0.0;
  }
  let period = 2.0 * f32(n - 1u);
  var m = c % period;
  if (m < 0.0) {
    m += period;
  }
  return select(period - m, m, m <= f32(n - 1u));
}

struct BilinearTaps {
  o00: u32, // (y0, x0)
  o01: u32, // (y0, x1)
  o10: u32, // (y1, x0)
  o11: u32, // (y1, x1)
  fy: f32,
  fx: f32,
}

fn bilinear_taps(yc: f32, xc: f32, H: u32, W: u32) -> BilinearTaps {
  let yy = reflect_coord(yc, H);
  let xx = reflect_coord(xc, W);
  let y0 = min(u32(floor(yy)), H - 1u);
  let x0 = min(u32(floor(xx)), W - 1u);
  let y1 = min(y0 + 1u, H - 1u);
  let x1 = min(x0 + 1u, W - 1u);
  return BilinearTaps(y0 * W + x0, y0 * W + x1, y1 * W + x0, y1 * W + x1, yy - f32(y0), xx - f32(x0));
}

fn bilinear_blend(t: BilinearTaps, v00: f32, v01: f32, v10: f32, v11: f32) -> f32 {
  return (v00 * (1.0 - t.fx) + v01 * t.fx) * (1.0 - t.fy) + (v10 * (1.0 - t.fx) + v11 * t.fx) * t.fy;
}
