/**
 * Small inline-SVG charts for the page: learning curves (loss, AUC) and the per-slice bars. Plain
 * strings, redrawn on each update (a few hundred points at most), so no chart library is needed.
 */

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Draw dots instead of a line (sparse points: per-fold test AUC). */
  dots?: boolean;
  dashed?: boolean;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function ticks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(+v.toFixed(10));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : `${+v.toPrecision(3)}`);

export function lineChart(o: {
  series: Series[];
  xLabel: string;
  yLabel: string;
  y?: [number, number];
  x?: [number, number];
  width?: number;
  height?: number;
  empty?: string;
  /** Legend entries (default: one per series with points). */
  legend?: { name: string; color: string }[];
}): string {
  const W = o.width ?? 520;
  const H = o.height ?? 220;
  const m = { l: 46, r: 12, t: 10, b: 34 };
  const pts = o.series.flatMap((s) => s.points);
  if (!pts.length)
    return `<svg viewBox="0 0 ${W} ${H}" class="chart" role="img"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted">${esc(o.empty ?? 'no data yet')}</text></svg>`;
  let [x0, x1] = o.x ?? [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = o.y ?? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  if (!o.y) {
    const pad = 0.06 * (y1 - y0);
    y0 = Math.max(0, y0 - pad);
    y1 += pad;
  }
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  for (const t of ticks(y0, y1))
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/><text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  for (const t of ticks(x0, x1, 6)) parts.push(`<text x="${sx(t)}" y="${H - m.b + 15}" text-anchor="middle">${fmt(t)}</text>`);
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" class="axis"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 4}" text-anchor="middle" class="label">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(12 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(o.yLabel)}</text>`);
  for (const s of o.series) {
    if (!s.points.length) continue;
    if (s.dots) {
      for (const [x, y] of s.points)
        parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="4" fill="${s.color}"><title>${esc(s.name)}: ${fmt(y)}</title></circle>`);
    } else {
      const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
  }
  let lx = m.l + 8;
  const legend = (o.legend ?? o.series.filter((s) => s.points.length))
    .map((s) => {
      const g = `<g transform="translate(${lx} ${m.t + 4})"><rect width="10" height="10" fill="${s.color}" rx="2"/><text x="14" y="9">${esc(s.name)}</text></g>`;
      lx += 26 + 6.2 * s.name.length;
      return g;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" class="chart" role="img">${parts.join('')}${legend}</svg>`;
}

/**
 * Per-slice P(T3) bars (threshold line at 0.5; the current slice outlined) and, for the attention head,
 * the mean attention weight of each slice as a line on its own scale. Bars carry data-slice for clicks.
 */
export function sliceBars(probs: number[], attention: number[] | null, current: number, width = 900, height = 170): string {
  const D = probs.length;
  const m = { l: 40, r: attention ? 46 : 10, t: 10, b: 26 };
  const bw = (width - m.l - m.r) / D;
  const sy = (p: number) => height - m.b - p * (height - m.t - m.b);
  const parts: string[] = [];
  for (const t of [0, 0.5, 1])
    parts.push(
      `<line x1="${m.l}" x2="${width - m.r}" y1="${sy(t)}" y2="${sy(t)}" class="${t === 0.5 ? 'threshold' : 'grid'}"/><text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
    );
  probs.forEach((p, d) => {
    const x = m.l + d * bw;
    if (!Number.isFinite(p)) {
      // A slice the model did not see (outside the central crop a volume-level model is tested on).
      parts.push(
        `<g class="slice unseen" data-slice="${d}"><rect x="${x}" y="${m.t}" width="${bw}" height="${height - m.t - m.b}" class="hit"/><title>slice ${d}: not in the model's input</title></g>`,
      );
      if (D <= 40 || d % Math.ceil(D / 20) === 0)
        parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${height - m.b + 14}" text-anchor="middle" class="unseen">${d}</text>`);
      return;
    }
    const col = p >= 0.5 ? 'var(--t3)' : 'var(--t2)';
    parts.push(
      `<g class="slice${d === current ? ' current' : ''}" data-slice="${d}"><rect x="${x}" y="${m.t}" width="${bw}" height="${height - m.t - m.b}" class="hit"/>` +
        `<rect x="${(x + 0.12 * bw).toFixed(1)}" y="${sy(p).toFixed(1)}" width="${(0.76 * bw).toFixed(1)}" height="${(sy(0) - sy(p)).toFixed(1)}" fill="${col}" rx="1.5"/>` +
        `<title>slice ${d}: P(T3) ${p.toFixed(3)}${attention ? `, attention ${attention[d]!.toFixed(3)}` : ''}</title></g>`,
    );
    if (D <= 40 || d % Math.ceil(D / 20) === 0) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${height - m.b + 14}" text-anchor="middle">${d}</text>`);
  });
  if (attention) {
    const amax = Math.max(...attention, 1e-9);
    const ay = (a: number) => height - m.b - (a / amax) * (height - m.t - m.b);
    const d = attention.map((a, i) => `${i ? 'L' : 'M'}${(m.l + (i + 0.5) * bw).toFixed(1)},${ay(a).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="var(--attention)" stroke-width="2"/>`);
    attention.forEach((a, i) => parts.push(`<circle cx="${(m.l + (i + 0.5) * bw).toFixed(1)}" cy="${ay(a).toFixed(1)}" r="2.5" fill="var(--attention)"/>`));
    parts.push(
      `<text x="${width - m.r + 6}" y="${m.t + 8}" class="attention-label">attention</text><text x="${width - m.r + 6}" y="${m.t + 20}" class="attention-label">max ${amax.toFixed(2)}</text>`,
    );
  }
  parts.push(`<text x="${m.l}" y="${height - 2}" class="label">slice</text>`);
  return `<svg viewBox="0 0 ${width} ${height}" class="chart slices" role="img" aria-label="per-slice P(T3)">${parts.join('')}</svg>`;
}
