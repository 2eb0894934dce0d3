import { InputError } from '../../src/util/errors.js';
import { describe, expect, it } from 'vitest';
import {
  checkRowAgainstVolume,
  formatManifest,
  parseManifest,
  parseRoi,
  resolveManifestPath,
  resolveRoi,
  type ManifestEntry,
} from '../../src/data/manifest.js';

const GOOD = [
  'subject,path,label,slices,roi,fold',
  'P001,vols/P001.nii.gz,T3,11;12;13,10:22;40:200;30:190,4',
  'P002,/abs/P002.nii,t2,9,,',
  '# a comment line',
  '',
  '"P,003","vols/with ""quote"", comma.nii",T3,0,*;0:64;0:64,0',
].join('\r\n');

function problems(text: string, opts = {}): string {
  try {
    parseManifest(text, { name: 'cohort.csv', ...opts });
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('manifest', () => {
  it('parses rows, labels, slices, ROI and fold; resolves relative paths; checks files via exists()', () => {
    const seen: string[] = [];
    const rows = parseManifest(GOOD, { baseDir: '/data/cohort', exists: (p) => (seen.push(p), true) });
    expect(rows.map((r) => r.subject)).toEqual(['P001', 'P002', 'P,003']);
    expect(rows[0]).toMatchObject({ label: 'T3', slices: [11, 12, 13], fold: 4, line: 2, file: '/data/cohort/vols/P001.nii.gz' });
    expect(rows[0]!.roi).toEqual({ d: [10, 22], h: [40, 200], w: [30, 190] });
    expect(rows[1]).toMatchObject({ label: 'T2', slices: [9], file: '/abs/P002.nii', line: 3 });
    expect(rows[1]!.roi).toBeUndefined();
    expect(rows[1]!.fold).toBeUndefined();
    expect(rows[2]).toMatchObject({ path: 'vols/with "quote", comma.nii', line: 6, roi: { d: null, h: [0, 64], w: [0, 64] } });
    expect(seen).toEqual(['/data/cohort/vols/P001.nii.gz', '/abs/P002.nii', '/data/cohort/vols/with "quote", comma.nii']);
  });

  it('optional columns may be left out and columns reordered', () => {
    const rows = parseManifest('label,subject,slices,path\nT2,A,1;2,a.nii\n');
    expect(rows[0]).toMatchObject({ subject: 'A', label: 'T2', slices: [1, 2], path: 'a.nii' });
  });

  it('formatManifest round-trips through parseManifest', () => {
    const entries: ManifestEntry[] = [
      { subject: 'S1', path: 'a b/x.nii.gz', label: 'T3', slices: [4, 5], roi: { d: [1, 9], h: null, w: [2, 30] }, fold: 2 },
      { subject: 'S,2', path: 'y.nii', label: 'T2', slices: [0] },
    ];
    const rows = parseManifest(formatManifest(entries));
    expect(rows.map(({ line: _l, file: _f, ...rest }) => rest)).toEqual(entries);
  });

  it('reports every problem with its line number', () => {
    const text = [
      'subject,path,label,slices,roi,fold',
      'A,a.nii,T4,1,,',
      'B,b.nii,T2,1;2;3;4,,',
      'A,c.nii,T3,2,,',
      'C,c.nii,T3,2,1:2;3:4,',
      'D,d.nii,T3,x,,',
      'E,e.nii,T2,1,,-1',
      'F,f.nii,T2',
      'G,,T2,1,,',
      'H,h.nii,T2,1;1,,',
      'I,i.nii,T2,3,5:2;*;*,',
      'J,"j.nii,T2,1,,',
    ].join('\n');
    const msg = problems(text);
    expect(msg).toMatch(/^cohort\.csv: 11 problem/);
    expect(msg).toContain("line 2 (subject A): unknown label 'T4' (expected T2 or T3)");
    expect(msg).toContain("line 3 (subject B): slices '1;2;3;4' must be 1 to 3");
    expect(msg).toContain("line 4 (subject A): duplicate subject 'A' (first on line 2)");
    expect(msg).toMatch(/line 5 \(subject C\): ROI '1:2;3:4' must have three/);
    expect(msg).toContain("line 6 (subject D): slices 'x'");
    expect(msg).toContain("line 7 (subject E): fold '-1' must be a non-negative integer");
    expect(msg).toContain('line 8: malformed row: expected 6 fields');
    expect(msg).toContain('line 9 (subject G): empty path');
    expect(msg).toContain("line 10 (subject H): slices '1;1'");
    expect(msg).toMatch(/line 11 \(subject I\): ROI range '5:2' \(axis D\) is empty/);
    expect(msg).toMatch(/line 12: malformed row \(unterminated double quote\)/);
  });

  it('missing files are reported through the injected exists()', () => {
    const msg = problems('subject,path,label,slices\nA,a.nii,T2,1\nB,b.nii,T3,2\n', { baseDir: 'root', exists: (p: string) => p === 'root/a.nii' });
    expect(msg).toContain('line 3 (subject B): missing file: root/b.nii');
    expect(msg).not.toContain('subject A');
  });

  it('bad header and empty input', () => {
    expect(problems('')).toMatch(/empty manifest/);
    expect(problems('subject,path,lable,slices\nA,a,T2,1')).toMatch(/line 1: bad header \(missing column\(s\) label; unknown column\(s\) lable\)/);
    expect(problems('subject,path,label,slices\n')).toMatch(/no subjects/);
  });

  it('slice indices and ROI are checked against the loaded volume', () => {
    const [row] = parseManifest('subject,path,label,slices,roi\nA,a.nii,T3,3;27,*;0:64;0:64\n');
    expect(() => checkRowAgainstVolume(row!, [28, 64, 64], 'm.csv')).not.toThrow();
    // The message starts with the file (a caller reporting the manifest line adds it once); `source` has the line.
    expect(() => checkRowAgainstVolume(row!, [27, 64, 64], 'm.csv')).toThrow(
      /^a\.nii: representative slice index 27 is out of range: the volume has 27 slices along D \(valid 0\.\.26, 0-based\)$/,
    );
    try {
      checkRowAgainstVolume(row!, [27, 64, 64], 'm.csv');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).source).toBe('m.csv line 2 (subject A)');
      expect((e as InputError).exitCode).toBe(4);
    }
    expect(() => checkRowAgainstVolume(row!, [28, 32, 64], 'm.csv')).toThrow(/ROI: range 0:64 on axis H is outside the volume's 0:32/);
    expect(resolveRoi(parseRoi('*;1:3;*'), [5, 6, 7])).toEqual({ d: [0, 5], h: [1, 3], w: [0, 7] });
  });

  it('path resolution', () => {
    expect(resolveManifestPath('/a/b', 'c.nii')).toBe('/a/b/c.nii');
    expect(resolveManifestPath('/a/b/', 'c.nii')).toBe('/a/b/c.nii');
    expect(resolveManifestPath('/a/b', '/x/c.nii')).toBe('/x/c.nii');
    expect(resolveManifestPath('C:\\data', 'c.nii')).toBe('C:\\data\\c.nii');
    expect(resolveManifestPath('/a', 'https://host/c.nii')).toBe('https://host/c.nii');
    expect(resolveManifestPath(undefined, 'c.nii')).toBe('c.nii');
  });
});
