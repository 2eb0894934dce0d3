/**
 * Readable forms of a results file (bench/record.ts's BenchResults): a Markdown table per bench with
 * every peer's time and the ratio peer ÷ voxelgrad (how many times faster voxelgrad is) per row, the
 * issue's goals checked against the run, and a self-contained HTML page with one bar chart per bench
 * (time per row, per engine). Pure functions: the runner writes the files.
 */
import { fmtErr } from './peer.js';
import type { BenchEntry, BenchRecord, BenchResults, PeerResult } from './record.js';

const ENGINE_ORDER = ['voxelgrad', 'tfjs', 'tfjs-layers', 'jax-js', 'ort'];
const COLORS: Record<string, string> = { voxelgrad: '#0f766e', tfjs: '#ea580c', 'tfjs-layers': '#c2410c', 'jax-js': '#7c3aed', ort: '#2563eb' };

export function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

const fmtRatio = (r: number) => (r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(1)}×`);

/** The peers' names in a bench, in a fixed order. */
function peerNames(records: readonly BenchRecord[]): string[] {
  const names = new Set(records.flatMap((r) => (r.peers ?? []).map((p) => p.name)));
  return ENGINE_ORDER.filter((n) => names.has(n));
}

/** How a peer's run reads in one line: time and ratio, or why it has none. */
export function describePeer(p: PeerResult | undefined, md = true): string {
  if (!p) return '';
  if (p.unavailable) return md ? `n/a` : `n/a: ${p.unavailable}`;
  const t = fmtMs(p.ms!);
  const on = p.shape ? ` (${p.note ? thinText(p.note) : 'thinner volume'})` : '';
  if (p.check && !p.check.ok) {
    const bad = Object.entries(p.check.errors)
      .filter(([, e]) => !(e < p.check!.tolerance))
      .map(([k, e]) => `${k} rel. error ${fmtErr(e)}`)
      .join(', ');
    return `${md ? '**wrong**' : 'wrong'} (${bad}; ${t}${on}, not comparable)`;
  }
  return `${t}${on}${p.speedup !== undefined ? ` · ${fmtRatio(p.speedup)}` : ''}`;
}

function thinText(note: string): string {
  const m = /ran on (\d+) of (\d+) (\w+)/.exec(note);
  return m ? `${m[1]}/${m[2]} ${m[3]}` : note;
}

/** How long a bench ran, or where its rows came from when its time is not known (split out of an old grouped bench). */
function benchTime(b: BenchEntry): string {
  const parts = [b.seconds !== undefined ? `${b.seconds.toFixed(0)} s` : '', b.migratedFrom ? `from the ${b.migratedFrom} run (time not split)` : ''];
  return parts.filter(Boolean).join(', ');
}

/** The device ceiling a bench's rows are divided by (`ratio.copy` or `ratio.gemm`), if they are. */
function ceilingKind(records: readonly BenchRecord[]): 'copy' | 'gemm' | undefined {
  if (records.some((r) => r.ratio?.copy !== undefined)) return 'copy';
  if (records.some((r) => r.ratio?.gemm !== undefined)) return 'gemm';
  return undefined;
}

/** When a row was measured, if not in its bench's run (a shared ceiling, a `--layers` rerun). */
const measuredAt = (r: BenchRecord) => (r.date ? `measured ${r.date.slice(0, 16).replace('T', ' ')} UTC` : '');

const load1 = (r: BenchRecord) => (r.loadavg ? `${r.loadavg.start[0]!.toFixed(1)}→${r.loadavg.end[0]!.toFixed(1)}` : '');

export interface Goal {
  goal: string;
  row: string;
  value: string;
  met: boolean | null;
}

/** The issue's goals, evaluated on this run's rows (null: the peer did not give a comparable figure). */
export function evaluateGoals(res: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const conv = res.benches.conv?.records ?? [];
  for (const r of conv.filter((x) => x.name.endsWith(' fwd+bwd') && x.shape.length === 10)) {
    const threeD = r.shape[7]! > 1;
    for (const [peer, target] of [
      ['jax-js', 3],
      ['tfjs', threeD ? 20 : 5],
    ] as const) {
      const p = r.peers?.find((q) => q.name === peer);
      if (!p) continue;
      const ok = p.speedup !== undefined && p.check?.ok;
      goals.push({
        goal: `conv fwd+bwd ≥ ${target}× ${peer}`,
        row: r.name,
        value: ok ? fmtRatio(p.speedup!) : describePeer(p, false),
        met: ok ? p.speedup! >= target : null,
      });
    }
  }
  for (const r of (res.benches.network?.records ?? []).filter((x) => x.name.startsWith('f-rMC5') && x.name.includes('train step'))) {
    const p = r.peers?.find((q) => q.name === 'tfjs-layers');
    if (!p) continue;
    const ok = p.speedup !== undefined && p.check?.ok;
    const mem = r.ratio?.memoryVsTfjs;
    goals.push({
      goal: 'f-rMC5 step ≥ 10× tfjs layers at ≤ ¼ its peak memory',
      row: r.name,
      value: ok ? `${fmtRatio(p.speedup!)}, peak ${mem !== undefined ? `${(mem * 100).toFixed(0)} %` : '?'} of tfjs's` : describePeer(p, false),
      met: ok && mem !== undefined ? p.speedup! >= 10 && mem <= 0.25 : null,
    });
  }
  const gemm = (res.benches.matmul?.records ?? []).find((x) => x.name === 'matmul 1024×1024·1024×1024');
  if (gemm?.peers?.length) {
    const ok = gemm.peers.filter((p) => p.check?.ok && p.ms !== undefined);
    const best = ok.sort((a, b) => a.ms! - b.ms!)[0];
    if (best)
      goals.push({
        goal: 'GEMM ceiling ≥ the best peer matmul',
        row: gemm.name,
        value: `${fmtMs(gemm.ms)} vs ${best.name} ${fmtMs(best.ms!)} (${fmtRatio(best.ms! / gemm.ms)})`,
        met: gemm.ms <= best.ms!,
      });
  }
  return goals;
}

function header(res: BenchResults): string[] {
  const a = res.adapter;
  const va = [a.vendor, a.architecture].filter(Boolean).join(' ');
  const lines = [
    `Adapter: **${a.description || va}**${va && va !== a.description ? ` (${va})` : ''}, ${res.date.slice(0, 16).replace('T', ' ')} UTC${res.quick ? ', `--quick`' : ''}.`,
  ];
  if (res.browser) {
    const engines = Object.entries(res.browser.engines)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `Browser: ${res.browser.userAgent.match(/(HeadlessChrome|Chrome)\/[\d.]+/)?.[0] ?? res.browser.userAgent}; peers in the same page on the same adapter: ${engines}; timestamp queries: ${res.browser.timestampQuery ? 'yes' : 'no'}.`,
    );
  }
  if (res.browser?.seconds !== undefined)
    lines.push(
      `Run: ${(res.browser.seconds / 60).toFixed(1)} min wall${res.browser.cpuSeconds !== undefined ? `, ${(res.browser.cpuSeconds / 60).toFixed(1)} CPU-minutes (Chromium and the runner)` : ''}.`,
    );
  if (res.loadavg)
    lines.push(
      `Host load average (1, 5, 15 min): ${res.loadavg.start.join(' ')} at the start, ${res.loadavg.end.join(' ')} at the end — CPU drivers share the host's cores, so absolute times move with it; ratios are measured side by side.`,
    );
  return lines;
}

/** The results as Markdown: header, goals, one table per bench, then notes (thinned peers, failures). */
export function renderMarkdown(res: BenchResults): string {
  const out: string[] = [`# voxelgrad bench — ${res.browser ? 'headless Chromium' : 'Node'}`, '', ...header(res).map((l) => `${l}  `), ''];
  out.push(
    'Each peer cell: its median time · how many times faster voxelgrad is (peer time ÷ ours, by GFLOP/s when the peer ran on a thinner volume). A peer is checked against voxelgrad on the same inputs before it is timed (relative error of every output); **wrong** means its result differs and its time is not comparable.',
    '',
  );
  const goals = evaluateGoals(res);
  if (goals.length) {
    out.push('## Goals', '', '| goal | row | this run | met |', '|---|---|---|---|');
    for (const g of goals) out.push(`| ${g.goal} | ${g.row} | ${g.value} | ${g.met === null ? '—' : g.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  const notes: string[] = [];
  for (const [stem, b] of Object.entries(res.benches)) {
    const names = peerNames(b.records);
    const ceil = ceilingKind(b.records);
    const time = benchTime(b);
    out.push(
      `## ${stem}`,
      '',
      `${b.records.length} rows${time ? `, ${time}` : ''}${b.loadavg ? `, load ${b.loadavg.start[0]} → ${b.loadavg.end[0]}` : ''}.`,
      '',
    );
    out.push(
      `| row | voxelgrad ms (min–max) | GFLOP/s | GB/s | ${ceil ? `÷ ${ceil === 'gemm' ? 'GEMM' : 'copy'} | ` : ''}${names.map((n) => `${n} · × ours`).join(' | ')}${names.length ? ' | ' : ''}load |`,
    );
    out.push(`|---|---|---|---|${ceil ? '---|' : ''}${names.map(() => '---|').join('')}---|`);
    for (const r of b.records) {
      const spread =
        r.spreadMs && r.spreadMs[0] !== r.spreadMs[1] ? ` (${r.spreadMs[0].toFixed(r.ms < 10 ? 1 : 0)}–${r.spreadMs[1].toFixed(r.ms < 10 ? 1 : 0)})` : '';
      const cells = names.map((n) => describePeer(r.peers?.find((p) => p.name === n)));
      const ratio = ceil ? r.ratio?.[ceil] : undefined;
      const when = measuredAt(r);
      out.push(
        `| ${r.name}${r.algorithm && r.algorithm !== 'direct' ? ` [${r.algorithm}]` : ''}${when ? ` (${when})` : ''} | ${r.ms.toFixed(r.ms < 10 ? 2 : 0)}${spread} | ${r.gflops !== undefined ? r.gflops.toFixed(2) : ''} | ${r.gbps !== undefined ? r.gbps.toFixed(2) : ''} | ${ceil ? `${ratio !== undefined ? ratio.toFixed(2) : ''} | ` : ''}${cells.join(' | ')}${names.length ? ' | ' : ''}${load1(r)} |`,
      );
      for (const p of r.peers ?? []) {
        if (p.unavailable) notes.push(`${r.name} — ${p.name}: ${p.unavailable}`);
        else if (p.note) notes.push(`${r.name} — ${p.note}`);
      }
    }
    out.push('');
  }
  if (notes.length) {
    out.push('## Notes', '');
    for (const n of [...new Set(notes)]) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One self-contained HTML page: per bench, per row, one bar per engine (time; longer is slower). */
export function renderHtml(res: BenchResults): string {
  const goals = evaluateGoals(res);
  const sections: string[] = [];
  for (const [stem, b] of Object.entries(res.benches)) {
    const benchMax = Math.max(...b.records.map((r) => r.ms));
    const rows = b.records.map((r) => {
      const bars: { engine: string; ms: number; label: string; wrong?: boolean; scaled?: boolean }[] = [{ engine: 'voxelgrad', ms: r.ms, label: fmtMs(r.ms) }];
      const missing: string[] = [];
      for (const p of [...(r.peers ?? [])].sort((x, y) => ENGINE_ORDER.indexOf(x.name) - ENGINE_ORDER.indexOf(y.name))) {
        if (p.unavailable || p.ms === undefined) {
          missing.push(`${p.name}: ${p.unavailable ?? 'no time'}`);
          continue;
        }
        if (p.check && !p.check.ok) {
          bars.push({ engine: p.name, ms: p.ms, label: describePeer(p, false), wrong: true });
          continue;
        }
        // A peer on a thinner volume: its time scaled to the full layer by the GFLOP/s ratio.
        const full = p.shape && p.speedup !== undefined ? r.ms * p.speedup : p.ms;
        if (p.shape) missing.push(`${p.name} ran on ${p.note ? thinText(p.note) : 'a thinner volume'}: its bar is scaled to the full layer by GFLOP/s`);
        const faster =
          p.speedup === undefined ? '' : p.speedup >= 1 ? ` · voxelgrad ${fmtRatio(p.speedup)} faster` : ` · ${p.name} ${fmtRatio(1 / p.speedup)} faster`;
        bars.push({ engine: p.name, ms: full, label: `${p.shape ? '≈ ' : ''}${fmtMs(full)}${faster}`, scaled: Boolean(p.shape) });
      }
      const max = bars.length > 1 ? Math.max(...bars.map((x) => x.ms)) : benchMax;
      const barHtml = bars
        .map((x) => {
          const pct = Math.max(0.4, (100 * x.ms) / max);
          const cls = `bar${x.wrong ? ' wrong' : ''}${x.scaled ? ' scaled' : ''}`;
          return `<div class="line"><span class="eng">${esc(x.engine)}</span><span class="track"><span class="${cls}" style="width:${pct.toFixed(2)}%;--c:${COLORS[x.engine] ?? '#555'}"></span></span><span class="lab" title="${esc(x.label)}">${esc(x.label)}</span></div>`;
        })
        .join('');
      const meta = [
        r.algorithm && r.algorithm !== 'direct' ? r.algorithm : '',
        r.gflops !== undefined ? `${r.gflops.toFixed(2)} GFLOP/s` : '',
        // Memory-bound rows: bandwidth and its share of the copy ceiling; compute-bound ones: share of the GEMM ceiling.
        r.ratio?.copy !== undefined && r.gbps !== undefined ? `${r.gbps.toFixed(2)} GB/s, ${r.ratio.copy.toFixed(2)} of copy` : '',
        r.ratio?.copy === undefined && r.ratio?.gemm !== undefined ? `${r.ratio.gemm.toFixed(2)} of GEMM` : '',
        r.peakMiB !== undefined ? `peak ${r.peakMiB.toFixed(0)} MiB` : '',
        r.loadavg ? `load ${load1(r)}` : '',
        measuredAt(r),
      ]
        .filter(Boolean)
        .join(' · ');
      const prof = r.kernels
        ? `GPU time (${r.kernels.source === 'timestamp-query' ? 'timestamps' : 'wall clock'}): ${r.kernels.kernels
            .slice(0, 3)
            .map((k) => `${k.kernel} ${fmtMs(k.totalMs)}`)
            .join(', ')}`
        : '';
      return `<div class="row"><div class="name">${esc(r.name)}<div class="meta">${esc(meta)}</div>${prof ? `<div class="meta">${esc(prof)}</div>` : ''}${missing.length ? `<div class="miss">${esc(missing.join('; '))}</div>` : ''}</div><div class="bars">${barHtml}</div></div>`;
    });
    sections.push(
      `<section><h2>${esc(stem)}</h2><p class="sub">${b.records.length} rows${benchTime(b) ? `, ${esc(benchTime(b))}` : ''}. Bars: time, longer is slower; each row with peers on its own scale, rows without peers on the bench's slowest row.</p>${rows.join('')}</section>`,
    );
  }
  const goalHtml = goals.length
    ? `<section><h2>Goals</h2><table><tr><th>goal</th><th>row</th><th>this run</th><th>met</th></tr>${goals.map((g) => `<tr><td>${esc(g.goal)}</td><td>${esc(g.row)}</td><td>${esc(g.value)}</td><td class="${g.met === null ? 'na' : g.met ? 'yes' : 'no'}">${g.met === null ? '—' : g.met ? 'yes' : 'no'}</td></tr>`).join('')}</table></section>`
    : '';
  const legend =
    ENGINE_ORDER.map((e) => `<span class="key"><span class="sw" style="background:${COLORS[e]}"></span>${e}</span>`).join('') +
    '<span class="key"><span class="sw wrongsw"></span>wrong result (not comparable)</span>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>voxelgrad bench — ${esc(res.adapter.description)}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#1f2937;padding:0 16px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:26px 0 4px;border-bottom:1px solid #e5e7eb;padding-bottom:3px}
.hdr p{margin:2px 0;color:#374151}.sub{color:#6b7280;margin:2px 0 10px;font-size:12.5px}
.legend{margin:10px 0 4px}.key{margin-right:16px;white-space:nowrap;font-size:13px}.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.wrongsw{background:repeating-linear-gradient(45deg,#dc2626 0 3px,#fecaca 3px 6px)}
.row{display:grid;grid-template-columns:300px 1fr;gap:12px;padding:6px 0;border-bottom:1px solid #f3f4f6}
.name{font-weight:600;font-size:13px}.meta{font-weight:400;color:#6b7280;font-size:11.5px}.miss{font-weight:400;color:#9ca3af;font-size:11.5px}
.line{display:grid;grid-template-columns:78px minmax(160px,1fr) 330px;align-items:center;gap:8px;height:19px}
.eng{font-size:12px;color:#4b5563;text-align:right}.track{background:#f9fafb;height:13px;border-radius:2px;position:relative}
.bar{display:block;height:13px;border-radius:2px;background:var(--c)}.bar.scaled{opacity:.75;background:repeating-linear-gradient(90deg,var(--c) 0 6px,transparent 6px 8px)}
.bar.wrong{background:repeating-linear-gradient(45deg,#dc2626 0 4px,#fecaca 4px 8px)}
.lab{font-size:12px;color:#111827;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}.yes{color:#047857;font-weight:600}.no{color:#b91c1c;font-weight:600}.na{color:#6b7280}
</style></head><body>
<div class="hdr"><h1>voxelgrad bench — ${esc(res.browser ? 'headless Chromium' : 'Node')}, ${esc(res.adapter.description)}</h1>${header(res)
    .map(
      (l) =>
        `<p>${esc(l)
          .replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')
          .replace(/`(.+?)`/g, '<code>$1</code>')}</p>`,
    )
    .join('')}
<p>Every peer is checked against voxelgrad on the same inputs before it is timed; times are medians after warm-up, each run closed by the queue's onSubmittedWorkDone().</p></div>
<div class="legend">${legend}</div>
${goalHtml}
${sections.join('\n')}
</body></html>
`;
}
