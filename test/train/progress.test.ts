import { describe, expect, it } from 'vitest';
import { formatDuration, Progress, progress } from '../../src/util/progress.js';

function fakeStream(isTTY: boolean, columns = 100) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns, write: (s: string) => void chunks.push(s) } };
}

function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('formatDuration', () => {
  it('formats seconds, minutes and hours', () => {
    expect(formatDuration(4.4)).toBe('4s');
    expect(formatDuration(187)).toBe('3m07s');
    expect(formatDuration(7500)).toBe('2h05m');
    expect(formatDuration(NaN)).toBe('?');
  });
});

describe('Progress on a TTY', () => {
  it('redraws in place with a linear ETA and ends with a newline', () => {
    const { chunks, stream } = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress(stream, { label: 'fold 1/10', total: 10, now: clock.now, minIntervalMs: 0 });
    clock.advance(3000);
    p.tick(2, 'loss 0.693');
    // 2 units in 3 s → 1.5 s per unit → 8 left → 12 s
    const last = chunks[chunks.length - 1]!;
    expect(last.startsWith('\r\x1b[K')).toBe(true);
    expect(last).toContain('2/10');
    expect(last).toContain(' 20%');
    expect(last).toContain('ETA 12s');
    expect(last).toContain('loss 0.693');
    expect(p.etaSeconds()).toBeCloseTo(12, 10);
    clock.advance(12000);
    p.update(10);
    p.finish();
    expect(chunks[chunks.length - 1]).toBe('\n');
    expect(chunks[chunks.length - 2]).toContain('10/10 100% 15s done');
    expect(chunks.join('')).not.toMatch(/\n.*\n/); // only the final newline
  });

  it('throttles redraws but always draws completion', () => {
    const { chunks, stream } = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress(stream, { label: 'tta', total: 100, now: clock.now, minIntervalMs: 100 });
    const before = chunks.length;
    for (let i = 0; i < 99; i++) {
      clock.advance(1);
      p.tick();
    }
    expect(chunks.length - before).toBe(0);
    p.tick();
    expect(chunks.length - before).toBe(1);
    expect(chunks[chunks.length - 1]).toContain('100/100');
  });

  it('fits the terminal width and keeps logs above the bar', () => {
    const { chunks, stream } = fakeStream(true, 50);
    const clock = fakeClock();
    const p = progress(stream, 'a fairly long phase label', 7, { now: clock.now, minIntervalMs: 0 });
    p.tick(1, 'some info text that is long');
    expect(p.render().length).toBeLessThanOrEqual(49);
    p.log('fold 1: val AUC 0.81');
    const logged = chunks.findIndex((c) => c.includes('fold 1: val AUC 0.81'));
    expect(chunks[logged]).toBe('\r\x1b[Kfold 1: val AUC 0.81\n');
    expect(chunks[logged + 1]).toContain('1/7');
  });
});

describe('Progress without a TTY', () => {
  it('prints one summary line when the phase finishes', () => {
    const { chunks, stream } = fakeStream(false);
    const clock = fakeClock();
    const p = new Progress(stream, { label: 'fold 2/10', total: 40, unit: 'epochs', now: clock.now });
    for (let i = 0; i < 40; i++) {
      clock.advance(2000);
      p.tick(1, `loss ${i}`);
    }
    expect(chunks).toEqual([]);
    p.finish('val AUC 0.80');
    expect(chunks).toEqual(['fold 2/10: 40 epochs in 1m20s — val AUC 0.80\n']);
  });

  it('says when a phase stopped early, and quiet writes nothing', () => {
    const a = fakeStream(false);
    const p = new Progress(a.stream, { label: 'train', total: 5, unit: 'epochs', now: fakeClock().now });
    p.tick(2);
    p.finish();
    expect(a.chunks[0]).toMatch(/^train: 2\/5 epochs \(stopped early\) in 0s\n$/);
    const b = fakeStream(true);
    const q = new Progress(b.stream, { label: 'x', total: 3, quiet: true });
    q.tick(3);
    q.log('hidden');
    q.finish();
    expect(b.chunks).toEqual([]);
  });

  it('rejects a bad total', () => {
    expect(() => new Progress(fakeStream(false).stream, { label: 'x', total: -1 })).toThrow(/total must be a non-negative integer/);
  });
});
