// Reflect-101 borders for the integer taps of augment/conv2d.wgsl and augment/median.wgsl (mirror
// without repeating the edge pixel, OpenCV's BORDER_REFLECT_101, as src/data/image-ops.ts); the
// continuous form for sample positions is in augment/bilinear.part.wgsl. Needs nothing from the includer.

// Index i reflected into [0, n). Any offset: one past twice the axis length still reflects correctly
// (the elastic smoothing kernel can be wider than a small image).
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
