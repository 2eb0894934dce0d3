/**
 * The bench list after the grouped benches were split one per op: `--only` names (the old group names
 * expand, with a notice), the split of old results files (what `mergeResults` does to a file that still
 * has `norm-pool` / `head-loss`), the report of a split entry (no time of its own), and the copy ceiling
 * the memory-bound benches share (measured once per run and size, its row in every bench that uses it).
 */
import { describe, expect, it } from 'vitest';
import { BENCH_ALIASES, BENCH_NAMES, expandBenchAliases, selectBenches } from '../../bench/benches.js';
import { sharedCopyCeiling } from '../../bench/copy-ceiling.js';
import { type BenchRecord, type BenchResults, COPY_CEILING_ROW, mergeResults, splitGroupedBenches } from '../../bench/record.js';
import { renderHtml, renderMarkdown } from '../../bench/report.js';
import { benchFlags, browserBenchFlags, nodeBenchFlags } from '../../src/cli/bench.js';
import { testGpu } from '../helpers/gpu.js';

const OP_BENCHES = ['depth-agg', 'triplet', 'sgd', 'batchnorm', 'maxpool', 'plane-avgpool'];

describe('bench names', () => {
  it('one bench per op stem; the old groups are aliases of their parts', () => {
    for (const s of OP_BENCHES) expect(BENCH_NAMES).toContain(s);
    expect(BENCH_NAMES).not.toContain('norm-pool');
    expect(BENCH_NAMES).not.toContain('head-loss');
    expect(BENCH_ALIASES['norm-pool']).toEqual(['batchnorm', 'maxpool', 'plane-avgpool']);
    expect(BENCH_ALIASES['head-loss']).toEqual(['depth-agg', 'triplet', 'sgd']);
  });

  it('--only expands an old group name in place, once, with a notice naming the new benches', () => {
    const { names, notices } = expandBenchAliases(['conv', 'norm-pool', 'maxpool', 'head-loss']);
    expect(names).toEqual(['conv', 'batchnorm', 'maxpool', 'plane-avgpool', 'depth-agg', 'triplet', 'sgd']);
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(/--only norm-pool: .*batchnorm, maxpool, plane-avgpool/);
    expect(notices[1]).toMatch(/--only head-loss: .*depth-agg, triplet, sgd/);
    expect(expandBenchAliases(['matmul']).notices).toEqual([]);
    expect(selectBenches(['norm-pool'])).toEqual(['batchnorm', 'maxpool', 'plane-avgpool']);
    expect(selectBenches(undefined)).toEqual(BENCH_NAMES);
  });

  it('an unknown name is still an error that lists the benches', () => {
    expect(() => selectBenches(['norm-pol'])).toThrow(
      /unknown bench norm-pol \(benches: matmul, conv, depth-agg.*norm-pool and head-loss still name their parts/,
    );
  });

  it("every runner's --only help names every bench and the old groups", () => {
    for (const flags of [benchFlags, nodeBenchFlags, browserBenchFlags]) {
      const help = flags.only!.help;
      for (const s of [...BENCH_NAMES, ...Object.keys(BENCH_ALIASES)]) expect(help, s).toContain(s);
    }
  });
});

const row = (name: string, ms: number): BenchRecord => ({ name, shape: [1], ms, gbps: 1 / ms, ratio: { copy: 1 / ms } });

/** A results file from before the split: the grouped entries between two others. */
function oldFile(): BenchResults {
  return {
    adapter: { description: 'SwiftShader', vendor: 'google', architecture: 'swiftshader', device: '', backend: 'vulkan' },
    date: '2026-11-29T17:00:00.000Z',
    quick: true,
    node: 'v20',
    loadavg: { start: [3, 3, 3], end: [3, 3, 3] },
    benches: {
      conv: { seconds: 100, records: [row('stage2 1×3×3 32→32 fwd', 50)] },
      'head-loss': {
        seconds: 42,
        date: '2026-11-29T11:37:58.504Z',
        quick: true,
        loadavg: { start: [4.5, 5, 4.8], end: [5.3, 5.2, 5] },
        records: [
          { ...row(COPY_CEILING_ROW, 93), ratio: { copy: 1 } },
          row('bilinear fwd', 125),
          row('bilinear fwd+bwd', 292),
          row('triplet fwd (dist + mining)', 253),
          row('triplet (L2-normalised) bwd', 190),
          row('sgd step (62 tensors, 1 dispatch)', 60),
        ],
      },
      // An entry from before per-bench metadata: it takes the file's date, mode and load.
      'norm-pool': {
        seconds: 48,
        records: [
          { ...row(COPY_CEILING_ROW, 80), ratio: { copy: 1 } },
          row('batchnorm train fwd stem', 40),
          row('batchnorm+relu fwd+bwd stem', 90),
          row('maxpool 1x3x3/s122 fwd stem', 30),
          row('plane-avgpool bwd stage5', 2),
        ],
      },
      network: { seconds: 900, records: [row('f-rMC5+bilinear train step', 4000)] },
    },
  };
}

describe('old results files', () => {
  it('split by row prefix, in place, each part with the copy row, the run metadata and no time', () => {
    const b = splitGroupedBenches(oldFile().benches);
    expect(Object.keys(b)).toEqual(['conv', 'depth-agg', 'triplet', 'sgd', 'batchnorm', 'maxpool', 'plane-avgpool', 'network']);
    expect(b['depth-agg']!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'bilinear fwd', 'bilinear fwd+bwd']);
    expect(b.triplet!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'triplet fwd (dist + mining)', 'triplet (L2-normalised) bwd']);
    expect(b.sgd!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'sgd step (62 tensors, 1 dispatch)']);
    expect(b.batchnorm!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'batchnorm train fwd stem', 'batchnorm+relu fwd+bwd stem']);
    expect(b.maxpool!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'maxpool 1x3x3/s122 fwd stem']);
    expect(b['plane-avgpool']!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'plane-avgpool bwd stage5']);
    expect(b.sgd).toMatchObject({ migratedFrom: 'head-loss', date: '2026-11-29T11:37:58.504Z', quick: true, loadavg: { start: [4.5, 5, 4.8] } });
    expect(b.maxpool!.records[0]!.ms).toBe(80);
    for (const s of OP_BENCHES) expect(b[s]!.seconds, s).toBeUndefined();
    expect(b.conv).toEqual(oldFile().benches.conv);
  });

  it('a row that fits no part stays under the old name, not dropped', () => {
    const f = oldFile();
    f.benches['norm-pool']!.records.push(row('avgpool 2x2 stem', 5));
    const b = splitGroupedBenches(f.benches);
    expect(b['norm-pool']!.records.map((r) => r.name)).toEqual([COPY_CEILING_ROW, 'avgpool 2x2 stem']);
  });

  it('mergeResults maps an old file onto the new names: a fresh run replaces its part, the others stay', () => {
    const fresh: BenchResults = {
      ...oldFile(),
      date: '2026-12-07T10:00:00.000Z',
      benches: { sgd: { seconds: 3, date: '2026-12-07T10:00:00.000Z', quick: true, records: [row('sgd step (62 tensors, 1 dispatch)', 55)] } },
    };
    const m = mergeResults(oldFile(), fresh, false);
    expect(m.benches['head-loss']).toBeUndefined();
    expect(m.benches['norm-pool']).toBeUndefined();
    expect(m.benches.sgd).toEqual(fresh.benches.sgd);
    expect(m.benches.triplet!.migratedFrom).toBe('head-loss');
    // The pre-metadata group took the old file's date and load when it was split.
    expect(m.benches.batchnorm).toMatchObject({ migratedFrom: 'norm-pool', date: '2026-11-29T17:00:00.000Z', quick: true, loadavg: { start: [3, 3, 3] } });
    // --layers-style merge of single rows into a split entry keeps its origin.
    const rows = mergeResults(
      oldFile(),
      { ...fresh, benches: { triplet: { seconds: 1, date: fresh.date, quick: true, records: [row('triplet (L2-normalised) bwd', 150)] } } },
      true,
    );
    expect(rows.benches.triplet!.migratedFrom).toBe('head-loss');
    expect(rows.benches.triplet!.records.find((r) => r.name === 'triplet (L2-normalised) bwd')).toMatchObject({ ms: 150, date: fresh.date });
  });

  it('the report shows a split entry without a time, with where its rows came from, and the ratio to the copy ceiling', () => {
    const res: BenchResults = { ...oldFile(), benches: splitGroupedBenches(oldFile().benches) };
    const md = renderMarkdown(res);
    expect(md).toMatch(/## sgd\n\n2 rows, from the head-loss run \(time not split\), load 4\.5 → 5\.3\./);
    expect(md).toMatch(/## conv\n\n1 rows, 100 s/);
    expect(md).toMatch(/\| row \| voxelgrad ms \(min–max\) \| GFLOP\/s \| GB\/s \| ÷ copy \| load \|/);
    expect(md).toMatch(/\| sgd step \(62 tensors, 1 dispatch\) \| 60 \| {2}\| 0\.02 \| 0\.02 \| /);
    expect(md).not.toMatch(/NaN|undefined/);
    const html = renderHtml(res);
    expect(html).toMatch(/<h2>maxpool<\/h2><p class="sub">2 rows, from the norm-pool run \(time not split\)\./);
    expect(html).not.toMatch(/NaN|undefined/);
  });
});

describe('the shared copy ceiling', () => {
  it('is measured once per size; later benches get its row, dated, with the load average of its measurement', async () => {
    const gpu = await testGpu();
    const emitted: BenchRecord[] = [];
    let tick = 0;
    const host = {
      quick: true,
      // As the runners do: stamp the load over the row's run unless the row already carries one.
      async emit(r: BenchRecord) {
        tick++;
        r.loadavg ??= { start: [tick], end: [tick] };
        emitted.push(r);
        return r;
      },
    };
    const ceiling = sharedCopyCeiling(() => host);
    const first = await ceiling(gpu, [4, 64, 64]);
    const second = await ceiling(gpu, [64, 64, 4]); // same size: shared
    const other = await ceiling(gpu, [1024]); // another size: measured
    expect(emitted).toHaveLength(3);
    expect(first.record).toMatchObject({ name: COPY_CEILING_ROW, shape: [4, 64, 64], ratio: { copy: 1 }, loadavg: { start: [1] } });
    expect(first.record.date).toBeUndefined();
    expect(first.gbps).toBeGreaterThan(0);
    expect(first.gbps).toBeCloseTo((2 * 4 * 64 * 64 * 4) / (first.ms * 1e6), 9);
    expect(second.gbps).toBe(first.gbps);
    expect(second.record).not.toBe(first.record);
    expect(second.record).toMatchObject({ name: COPY_CEILING_ROW, ms: first.ms, shape: [4, 64, 64], loadavg: { start: [1] } });
    expect(second.record.date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(second.record.note).toMatch(/measured once .* shared/);
    expect(other.record.shape).toEqual([1024]);
    expect(other.record.date).toBeUndefined();
    expect(other.record.loadavg?.start).toEqual([3]);
  });
});
