import { describe, expect, it } from 'vitest';
import { binaryMetrics, summarizeFolds } from '../../src/train/metrics.js';
import { formatFoldTable, formatMeanSd, formatResultsTable, PAPER_RESULTS, paperResultRows, type ResultRow } from '../../src/train/table.js';
import { Rng } from '../../src/util/rng.js';

function fakeRow(name: string, seed: number, params?: number): ResultRow {
  const rng = new Rng(seed);
  const folds = Array.from({ length: 5 }, () => {
    const labels = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const scores = labels.map((y) => 1 / (1 + Math.exp(-(rng.normal() + (y ? 1 : -1)))));
    return binaryMetrics(labels, scores);
  });
  return { name, summary: summarizeFolds(folds), ...(params !== undefined ? { params } : {}) };
}

describe('formatMeanSd', () => {
  it('uses the paper number formats', () => {
    expect(formatMeanSd({ mean: 0.8151, sd: 0.0569, n: 10, nMissing: 0 }, false)).toBe('0.815±0.057');
    expect(formatMeanSd({ mean: 0.7734, sd: 0.0441, n: 10, nMissing: 0 }, true)).toBe('77.3±4.4');
    expect(formatMeanSd({ mean: NaN, sd: NaN, n: 0, nMissing: 10 }, true)).toBe('n/a');
    expect(formatMeanSd({ mean: 0.5, sd: NaN, n: 1, nMissing: 0 }, false)).toBe('0.500±n/a');
    expect(formatMeanSd({ mean: 0.5, sd: 0.1, n: 9, nMissing: 1 }, true)).toBe('50.0±10.0†');
  });
});

describe('formatResultsTable', () => {
  it('reproduces the paper rows of Table 2 in text, aligned on ±', () => {
    const text = formatResultsTable(paperResultRows(2), { kind: 2 });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Table 2\. .*10-fold CV/);
    expect(lines[1]).toMatch(/^CNN\s+AUC\s+Acc\s+Recall\(T2\)\s+Recall\(T3\)\s+# params$/);
    const body = lines.filter((l) => l.startsWith('f-'));
    expect(body).toHaveLength(PAPER_RESULTS[2].length);
    for (const r of PAPER_RESULTS[2]) {
      const line = body.find((l) => l.startsWith(`${r.name} `))!;
      expect(line).toContain(`${r.auc[0].toFixed(3)}±${r.auc[1].toFixed(3)}`);
      expect(line).toContain(`${r.acc[0].toFixed(1)}±${r.acc[1].toFixed(1)}`);
      expect(line).toContain(`${r.recallT3[0].toFixed(1)}±${r.recallT3[1].toFixed(1)}`);
      expect(line.endsWith(String(r.params))).toBe(true);
    }
    // every "±" of a column sits at the same character position
    const positions = body.map((l) => [...l.matchAll(/±/g)].map((m) => m.index));
    for (let c = 0; c < 4; c++) expect(new Set(positions.map((p) => p[c])).size).toBe(1);
    // the paper's best model by mean AUC is marked
    expect(body.find((l) => l.startsWith('f-rMC5'))).toMatch(/^f-rMC5 \*/);
  });

  it('formats computed summaries exactly (independently recomputed)', () => {
    const rows = [fakeRow('Focal', 1), fakeRow('+Center', 2), fakeRow('+Triplet', 3)];
    const md = formatResultsTable(rows, { kind: 3, format: 'markdown' });
    const tableLines = md.split('\n').filter((l) => l.startsWith('|'));
    expect(tableLines[0]).toBe('| Loss | AUC | Acc | Recall(T2) | Recall(T3) |');
    expect(tableLines[1]).toBe('|:---|---:|---:|---:|---:|');
    expect(tableLines).toHaveLength(5);
    let bestAuc = -1;
    for (const r of rows) bestAuc = Math.max(bestAuc, r.summary.auc.mean);
    rows.forEach((r, i) => {
      const cells = tableLines[i + 2]!.split('|')
        .map((s) => s.trim())
        .slice(1, -1);
      const isBest = r.summary.auc.mean === bestAuc;
      expect(cells[0]).toBe(isBest ? `**${r.name}**` : r.name);
      const [m, s] = cells[1]!.split('±').map(Number);
      expect(Math.abs(m! - r.summary.auc.mean)).toBeLessThanOrEqual(0.0005);
      expect(Math.abs(s! - r.summary.auc.sd)).toBeLessThanOrEqual(0.0005);
      const [am] = cells[2]!.split('±').map(Number);
      expect(Math.abs(am! - 100 * r.summary.accuracy.mean)).toBeLessThanOrEqual(0.05);
    });
  });

  it('has the Table 4 layout and a dagger note for skipped folds', () => {
    const rows = paperResultRows(4);
    rows[0]!.summary.recallT2 = { mean: 0.4, sd: 0.1, n: 8, nMissing: 2 };
    const text = formatResultsTable(rows, { kind: 4, title: false, markBest: false });
    expect(text.split('\n')[0]).toMatch(/^Pool\s+AUC/);
    expect(text).not.toContain('# params');
    expect(text).toContain('40.0±10.0†');
    expect(text).toMatch(/†: undefined in some folds/);
    expect(text).not.toMatch(/\*/);
  });

  it('escapes pipes in markdown names', () => {
    const md = formatResultsTable([fakeRow('a|b', 4)], { kind: 3, format: 'markdown', title: false });
    expect(md).toContain('| a\\|b |');
  });
});

describe('formatFoldTable', () => {
  it('lists each fold with counts', () => {
    const f = [binaryMetrics([0, 1, 1], [0.2, 0.6, 0.4]), binaryMetrics([1, 1], [0.6, 0.7])];
    const lines = formatFoldTable(f).split('\n');
    expect(lines[2]).toMatch(/^1\s+3 \(1\/2\)\s+1\.000\s+66\.7\s+100\.0\s+50\.0\s+1\s+0\s+1\s+1$/);
    expect(lines[3]).toMatch(/^2\s+2 \(0\/2\)\s+n\/a\s+100\.0\s+n\/a\s+100\.0\s+0\s+0\s+0\s+2$/);
  });
});
