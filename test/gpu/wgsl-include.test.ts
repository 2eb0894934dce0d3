/** The shader build's #include step (scripts/wgsl-include.mjs): expansion, line maps, and its errors. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandIncludes, sourceLine } from '../../scripts/wgsl-include.mjs';
import { sourceLocation } from '../../src/gpu/gpu.js';
import { SHADER_LINES, SHADERS } from '../../src/kernels/shaders.gen.js';

const root = mkdtempSync(join(tmpdir(), 'wgsl-include-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
function file(rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

describe('#include expansion of WGSL', () => {
  file('a/common.part.wgsl', '// common 1\nconst C: u32 = 1u;\n');
  file('a/tile.part.wgsl', '// tile 1\n#include "a/common.part.wgsl"\nfn t() -> u32 { return C; }\n');
  file('a/main.wgsl', '// main 1\n#include "a/tile.part.wgsl"\n#include "a/common.part.wgsl"  // again: dropped\nfn m() -> u32 { return t(); }\n');

  it('expands nested pieces once each and maps every expanded line back to its file', () => {
    const { text, lines, included } = expandIncludes(root, 'a/main.wgsl');
    expect(text).toBe('// main 1\n// tile 1\n// common 1\nconst C: u32 = 1u;\nfn t() -> u32 { return C; }\nfn m() -> u32 { return t(); }\n');
    expect(included).toEqual(['a/tile.part.wgsl', 'a/common.part.wgsl']);
    const where = text
      .trimEnd()
      .split('\n')
      .map((_, i) => sourceLine(lines, i + 1));
    expect(where).toEqual([
      'shaders/a/main.wgsl:1',
      'shaders/a/tile.part.wgsl:1',
      'shaders/a/common.part.wgsl:1',
      'shaders/a/common.part.wgsl:2',
      'shaders/a/tile.part.wgsl:3',
      'shaders/a/main.wgsl:4',
    ]);
    // The engine's reader of the map agrees with the build's.
    const def = { name: 'x', shaderPath: 'shaders/a/main.wgsl', source: text, bindings: {}, lines };
    for (let i = 1; i <= 6; i++) expect(sourceLocation(def, i)).toBe(where[i - 1]);
  });

  it('rejects cycles, missing files, malformed directives and non-piece targets with the including line', () => {
    file('b/x.part.wgsl', '#include "b/y.part.wgsl"\n');
    file('b/y.part.wgsl', '// y\n#include "b/x.part.wgsl"\n');
    file('b/cycle.wgsl', '#include "b/x.part.wgsl"\n');
    expect(() => expandIncludes(root, 'b/cycle.wgsl')).toThrow(
      /shaders\/b\/y\.part\.wgsl:2: #include cycle: b\/cycle\.wgsl → b\/x\.part\.wgsl → b\/y\.part\.wgsl → b\/x\.part\.wgsl/,
    );
    file('b/missing.wgsl', '// m\n#include "b/nope.part.wgsl"\n');
    expect(() => expandIncludes(root, 'b/missing.wgsl')).toThrow(/shaders\/b\/missing\.wgsl:2: #include "b\/nope\.part\.wgsl": no such file/);
    file('b/bad.wgsl', '#include b/x.part.wgsl\n');
    expect(() => expandIncludes(root, 'b/bad.wgsl')).toThrow(/shaders\/b\/bad\.wgsl:1: malformed #include/);
    file('b/kernel.wgsl', '#include "a/main.wgsl"\n');
    expect(() => expandIncludes(root, 'b/kernel.wgsl')).toThrow(/only \*\.part\.wgsl pieces can be included/);
  });

  it('the embedded shaders carry no directives, no piece is a kernel of its own, and every include is mapped', () => {
    for (const [path, source] of Object.entries(SHADERS)) {
      expect(source, path).not.toMatch(/^\s*#include/m);
      expect(path.endsWith('.part')).toBe(false);
    }
    expect(Object.keys(SHADER_LINES).sort()).toEqual(
      [
        'batchnorm/backward-affine',
        'batchnorm/backward-affine-reduce',
        'batchnorm/backward-input',
        'batchnorm/forward',
        'batchnorm/stats',
        'batchnorm/stats-reduce',
        'conv/backward-input',
        'conv/backward-input-tiled',
        'conv/backward-weight',
        'conv/backward-weight-tiled',
        'conv/forward',
        'conv/forward-tiled',
        'matmul/matmul',
        'matmul/matmul-tiled',
      ].sort(),
    );
  });
});
