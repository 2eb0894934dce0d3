/** Float64 references for the layout kernels. */
export function swapAxesRef(x: ArrayLike<number>, shape: readonly number[], d0: number, d1: number): Float64Array {
  if (d0 > d1) [d0, d1] = [d1, d0];
  const prod = (a: number, b: number) => shape.slice(a, b).reduce((p, c) => p * c, 1);
  const A = prod(0, d0),
    B = shape[d0]!,
    M = prod(d0 + 1, d1),
    C = shape[d1]!,
    I = prod(d1 + 1, shape.length);
  const out = new Float64Array(x.length);
  for (let a = 0; a < A; a++)
    for (let b = 0; b < B; b++)
      for (let m = 0; m < M; m++)
        for (let c = 0; c < C; c++) for (let i = 0; i < I; i++) out[(((a * C + c) * M + m) * B + b) * I + i] = x[(((a * B + b) * M + m) * C + c) * I + i]!;
  return out;
}

export function gatherRowsRef(x: ArrayLike<number>, rows: number, idx: ArrayLike<number>): Float64Array {
  const k = x.length / rows;
  const out = new Float64Array(idx.length * k);
  for (let s = 0; s < idx.length; s++) for (let j = 0; j < k; j++) out[s * k + j] = x[idx[s]! * k + j]!;
  return out;
}

export function gatherRowsBackwardRef(dy: ArrayLike<number>, rows: number, idx: ArrayLike<number>): Float64Array {
  const k = dy.length / idx.length;
  const dx = new Float64Array(rows * k);
  for (let s = 0; s < idx.length; s++) for (let j = 0; j < k; j++) dx[idx[s]! * k + j]! += dy[s * k + j];
  return dx;
}
