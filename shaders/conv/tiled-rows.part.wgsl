// The rows of the tiled convolution kernels (conv/forward-tiled.wgsl, conv/backward-input-tiled.wgsl,
// conv/backward-weight-tiled.wgsl), kept in named private variables like the accumulators of
// matmul/register-tile.part.wgsl (TM ≤ 8; those past TM are never touched): p0..p7, the invocation's GEMM
// rows — output positions, dx positions or weight rows — and r0..r7, where each of them reads along the
// current reduction row. Expects the structs Pos and Row from the op's rows part.
var<private> p0: Pos;
var<private> p1: Pos;
var<private> p2: Pos;
var<private> p3: Pos;
var<private> p4: Pos;
var<private> p5: Pos;
var<private> p6: Pos;
var<private> p7: Pos;
var<private> r0: Row;
var<private> r1: Row;
var<private> r2: Row;
var<private> r3: Row;
var<private> r4: Row;
var<private> r5: Row;
var<private> r6: Row;
var<private> r7: Row;
