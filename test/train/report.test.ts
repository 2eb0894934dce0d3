import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildRunReport,
  confusionSvg,
  heatColor,
  learningCurveSvg,
  niceTicks,
  parseRunReport,
  renderReportHtml,
  renderReportMarkdown,
  rocChartSvg,
  saliencyOverlayRgba,
  serializeRunReport,
  sliceBarsSvg,
  tableSummary,
} from '../../src/train/report.js';
import { Rng } from '../../src/util/rng.js';
import { fakeRunInput } from './fixtures/fake-run-report.js';

/** Pair-counting AUC, independent of metrics.ts. */
function pairAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < labels.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

/** Checks that tags in an SVG/XML string are balanced (a cheap well-formedness test without a DOM). */
function expectBalancedXml(xml: string): void {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

const input = fakeRunInput();
const report = buildRunReport(input);

describe('buildRunReport', () => {
  it('computes fold metrics, mean ± SD and pooled values that match independent computations', () => {
    const aucs = input.folds.map((f) => pairAuc(f.labels, f.scores));
    const mean = aucs.reduce((a, b) => a + b) / aucs.length;
    const sd = Math.sqrt(aucs.reduce((a, v) => a + (v - mean) ** 2, 0) / (aucs.length - 1));
    expect(report.summary.auc.mean).toBeCloseTo(mean, 12);
    expect(report.summary.auc.sd).toBeCloseTo(sd, 12);
    const labels = input.folds.flatMap((f) => Array.from(f.labels));
    const scores = input.folds.flatMap((f) => Array.from(f.scores));
    expect(report.pooled.auc).toBeCloseTo(pairAuc(labels, scores), 12);
    let tp = 0;
    let tn = 0;
    labels.forEach((y, i) => {
      if (y === 1 && scores[i]! >= 0.5) tp++;
      if (y === 0 && scores[i]! < 0.5) tn++;
    });
    expect(report.confusion.tp).toBe(tp);
    expect(report.confusion.tn).toBe(tn);
    expect(report.confusion.tp + report.confusion.tn + report.confusion.fp + report.confusion.fn).toBe(300);
    expect(report.pooled.ci[0]).toBeLessThan(report.pooled.auc);
    expect(report.referenceRows[0]!.summary.auc.mean).toBe(0.831);
  });

  it('scores the slice head per representative slice (the paper’s Tables 2–3) beside per volume', () => {
    // Two representative slices per subject, each with its volume's label and its own score.
    const rng = new Rng(7);
    const folds = input.folds.map((f) => {
      const labels = Array.from(f.labels).flatMap((y) => [y, y]);
      return { ...f, slices: { labels, scores: labels.map((y) => 1 / (1 + Math.exp(-((y ? 1 : -1) * 0.6 + rng.normal())))) } };
    });
    const r = buildRunReport({ ...input, folds, tableKind: 2, paperReference: undefined });
    const perFold = folds.map((f) => pairAuc(f.slices.labels, f.slices.scores));
    expect(r.sliceLevel!.summary.auc.mean).toBeCloseTo(perFold.reduce((a, b) => a + b) / perFold.length, 12);
    expect(r.sliceLevel!.pooled.n).toBe(600);
    expect(r.sliceLevel!.pooled.auc).toBeCloseTo(
      pairAuc(
        folds.flatMap((f) => f.slices.labels),
        folds.flatMap((f) => f.slices.scores),
      ),
      12,
    );
    expect(tableSummary(r)).toBe(r.sliceLevel!.summary);
    expect(tableSummary({ ...r, tableKind: 4 })).toBe(r.summary);
    expect(r.summary.auc.mean).toBeCloseTo(report.summary.auc.mean, 12); // per-volume metrics unchanged
    const html = renderReportHtml(r);
    expect(html).toContain('per representative slice');
    expect(html).toContain('600 slices');
    expect(renderReportMarkdown(r)).toMatch(/\| per representative slice \| 600 slices \|/);
    expect(report.sliceLevel).toBeUndefined(); // no slice samples given: no slice-level block
  });

  it('rejects a subject tested twice, a duplicated fold and unknown paper rows', () => {
    const f = input.folds[0]!;
    expect(() => buildRunReport({ ...input, folds: [f, { ...f, fold: 1 }] })).toThrow(/is in the test sets of folds 0 and 1/);
    expect(() => buildRunReport({ ...input, folds: [f, { ...input.folds[1]!, fold: 0 }] })).toThrow(/fold 0 appears twice/);
    expect(() => buildRunReport({ ...input, paperReference: { kind: 4, name: 'nope' } })).toThrow(/no row "nope"; rows: AVP, MXP, Bilin, Att/);
    expect(() => buildRunReport({ ...input, folds: [] })).toThrow(/no folds given/);
  });

  it('reports single-class folds as warnings instead of failing', () => {
    const r = buildRunReport({
      config: {},
      folds: [
        { fold: 0, subjectIds: ['a', 'b'], labels: [1, 1], scores: [0.7, 0.4] },
        { fold: 1, subjectIds: ['c', 'd'], labels: [0, 1], scores: [0.3, 0.9] },
      ],
      bootstrap: { b: 20 },
    });
    expect(r.warnings.join('\n')).toMatch(/fold 1: AUC is undefined/);
    expect(r.summary.auc.nMissing).toBe(1);
    expect(renderReportHtml(r)).toContain('fold 1: AUC is undefined');
  });

  it('round-trips through JSON including the ROC curve’s infinite threshold', () => {
    const back = parseRunReport(serializeRunReport(report));
    expect(back.pooled.roc.thresholds[0]).toBe(Infinity);
    expect(back.folds[0]!.roc.thresholds[0]).toBe(Infinity);
    expect(back.summary).toEqual(report.summary);
    expect(renderReportMarkdown(back)).toBe(renderReportMarkdown(report));
  });
});

describe('renderReportHtml', () => {
  const html = renderReportHtml(report);

  it('is self-contained: no scripts, no external URLs, only embedded images', () => {
    expect(html).not.toMatch(/<script/i);
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(urls.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    const srcs = [...html.matchAll(/src="([^"]*)"/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThanOrEqual(15); // 3 examples × 3 slices × (image + overlay)
    expect(srcs.every((s) => s.startsWith('data:image/png;base64,'))).toBe(true);
    expect(html).not.toMatch(/url\((?!#)/); // CSS/SVG urls only to in-document ids
  });

  it('shows the paper-layout table with the computed numbers and the reference row', () => {
    const aucCell = `${report.summary.auc.mean.toFixed(3)}±${report.summary.auc.sd.toFixed(3)}`;
    expect(html).toContain(aucCell);
    expect(html).toContain(`${(report.summary.recallT3.mean * 100).toFixed(1)}±${(report.summary.recallT3.sd * 100).toFixed(1)}`);
    expect(html).toContain('<th>Pool</th>');
    expect(html).toContain('paper: Bilin');
    expect(html).toContain('0.831±0.062');
    for (const f of report.folds) expect(html).toContain(`Fold ${f.fold + 1} (AUC ${f.metrics.auc.toFixed(3)})`);
  });

  it('has balanced SVG charts with axes labels and legends', () => {
    const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(svgs.length).toBe(1 + 1 + 2 + 3 + 1); // ROC, confusion, loss+AUC, 3 slice charts, saliency legend
    for (const s of svgs) expectBalancedXml(s);
    const roc = rocChartSvg(report);
    expect(roc).toContain('False-positive rate');
    expect(roc).toContain('True-positive rate');
    expect(roc).toContain('Chance (AUC 0.5)');
    expect(roc).toContain('95% bootstrap band');
    expect(learningCurveSvg(report, 'loss')).toContain('Validation (mean)');
    expect(sliceBarsSvg(report.examples[0]!, 0.5)).toContain('representative slice');
  });

  it('omits learning curves gracefully when there is no history', () => {
    const r = buildRunReport({ ...input, folds: input.folds.map(({ history: _h, ...f }) => f), examples: [] });
    expect(learningCurveSvg(r, 'loss')).toBeUndefined();
    const h = renderReportHtml(r);
    expect(h).toContain('No per-epoch history');
    expect(h).toContain('No example volumes');
  });

  it('escapes user strings', () => {
    const r = buildRunReport({ ...input, title: '<b>x</b> & "y"', examples: [] });
    const h = renderReportHtml(r);
    expect(h).toContain('&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;');
    expect(h).not.toContain('<b>x</b>');
  });

  it('rejects non-embedded image URLs', () => {
    const ex = { ...report.examples[0]!, slices: [{ index: 1, image: { kind: 'png' as const, dataUrl: 'https://example.com/x.png' } }] };
    expect(() => renderReportHtml({ ...report, examples: [ex] })).toThrow(/must be a base64/);
  });

  it('writes the fixture report when VOXELGRAD_REPORT_OUT is set (for scripts/screenshot-report.mjs)', () => {
    const out = process.env.VOXELGRAD_REPORT_OUT;
    if (!out) return;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, html);
    writeFileSync(`${out.replace(/\.html$/, '')}.md`, renderReportMarkdown(report));
  });
});

describe('confusion matrix chart', () => {
  it('prints counts and row shares', () => {
    const svg = confusionSvg({ tn: 30, fp: 10, fn: 5, tp: 55 }, 0.5);
    expectBalancedXml(svg);
    expect(svg).toContain('>30<');
    expect(svg).toContain('75.0% of T2');
    expect(svg).toContain('91.7% of T3');
  });
});

describe('renderReportMarkdown', () => {
  it('has the results table, pooled AUC with CI, confusion matrix, folds and config', () => {
    const md = renderReportMarkdown(report);
    expect(md).toMatch(/^# voxelgrad demo/);
    expect(md).toContain('| Pool | AUC | Acc | Recall(T2) | Recall(T3) |');
    expect(md).toContain(`| Bilin (this run) | ${report.summary.auc.mean.toFixed(3)}±`);
    expect(md).toContain(`**Pooled AUC:** ${report.pooled.auc.toFixed(3)} (95% CI ${report.pooled.ci[0].toFixed(3)}–`);
    expect(md).toContain(`| T3 | ${report.confusion.fn} | ${report.confusion.tp} |`);
    expect(md.split('\n').filter((l) => /^\| \d+ \| \d+ \(/.test(l))).toHaveLength(10);
    expect(md).toContain('- `optimizer.lr`: 0.01');
    expect(md).toContain('| SYN-071 | T3 | 0.860 | T3 |');
  });
});

describe('image helpers', () => {
  it('blends saliency over the image by its normalised value', () => {
    const image = { width: 2, height: 1, data: [0, 1] };
    const sal = { width: 2, height: 1, data: [0, 4] };
    const rgba = saliencyOverlayRgba(image, sal, { alphaMax: 0.5 });
    expect(Array.from(rgba.slice(0, 4))).toEqual([0, 0, 0, 255]); // zero saliency: pure image
    const [r, g, b] = heatColor(1);
    expect(Array.from(rgba.slice(4, 8))).toEqual([Math.round(255 * 0.5 + r * 0.5), Math.round(255 * 0.5 + g * 0.5), Math.round(255 * 0.5 + b * 0.5), 255]);
  });

  it('upsamples a low-resolution saliency map to the image size', () => {
    const image = { width: 8, height: 8, data: new Array<number>(64).fill(0), min: 0, max: 1 };
    const sal = { width: 2, height: 2, data: [0, 0, 0, 1] };
    const rgba = saliencyOverlayRgba(image, sal);
    const red = (x: number, y: number): number => rgba[(y * 8 + x) * 4]!;
    expect(red(7, 7)).toBeGreaterThan(red(4, 4));
    expect(red(4, 4)).toBeGreaterThan(red(0, 0));
    expect(red(0, 0)).toBe(0);
  });

  it('picks round ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 30, 8)).toEqual([5, 10, 15, 20, 25, 30]);
    expect(niceTicks(0.11, 0.72, 5)).toEqual([0.2, 0.4, 0.6]);
  });
  it('shows where the saliency falls against the synthetic truth, in HTML, Markdown and metrics.json', () => {
    const saliencyTruth = {
      input: 'central' as const,
      perVolumeLimit: 10,
      classes: [
        {
          label: 'T3' as const,
          n: 10,
          byRadius: [{ radiusMm: 3, mass: 0.081, volume: 0.02, enrichment: 4.05, top: 0.3, peak: 0.4 }],
          tumour: { mass: 0.2, volume: 0.05 },
        },
        {
          label: 'T2' as const,
          n: 9,
          byRadius: [{ radiusMm: 3, mass: 0.03, volume: 0.02, enrichment: 1.5, top: 0.1, peak: 0 }],
          tumour: { mass: 0.1, volume: 0.05 },
        },
      ],
    };
    const r = buildRunReport({ ...input, saliencyTruth });
    const md = renderReportMarkdown(r);
    expect(md).toContain('| T3 (10) | 3 | 8.1 | 2.0 | 4.05 | 30.0 | 40 |');
    expect(md).toContain('| T2 (9) | 3 | 3.0 | 2.0 | 1.50 | 10.0 | 0 |');
    expect(md).toMatch(/Where the model looks .*\(central input\)/);
    const html = renderReportHtml(r);
    expect(html).toContain('<td class="name">T3 (10)</td><td class="num">3</td><td class="num">8.1</td>');
    expect(JSON.parse(serializeRunReport(r)).saliencyTruth.classes[0].byRadius[0].enrichment).toBe(4.05);
    expect(renderReportMarkdown(buildRunReport(input))).not.toContain('Where the model looks');
  });
});
