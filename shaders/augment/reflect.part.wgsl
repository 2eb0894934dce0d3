// Reflect-101 borders of the augmentation kernels (mirror without repeating the edge pixel, OpenCV's
// BORDER_REFLECT_101, as src/data/image-ops.ts): reflect_index for integer taps (conv-line, conv2d,
// median), reflect_coord for continuous sample positions (field, resample). Needs nothing from the includer.

// Integer index i reflected into [0, n). Any offset: one past twice the axis length still reflects
// correctly (the elastic smoothing kernel can be wider than a small image).
fn reflect_index(i: i32, n: i32) -> i32 {
  if (i >= 0 && i < n) {
    return i; // the common case: no integer division
  }
  if (n == 1) {
    return 0;
  }
  let period = 2 * (n - 1);
  var m = i % period;
  if (m < 0) {
    m += period;
  }
  return select(period - m, m, m < n);
}

// Continuous coordinate c reflected into [0, n − 1].
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
