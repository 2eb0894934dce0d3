// `#include "path"` for WGSL, run by scripts/gen-shaders.mjs before the shaders are embedded (and so
// before reflection): a line `#include "matmul/register-tile.part.wgsl"` is replaced by that file
// (paths are relative to shaders/). A piece shared by several shaders — a GEMM micro-kernel — then lives
// once. Pieces are named `*.part.wgsl`: they are expanded into the shaders that include them and are
// not kernels of their own. Each piece is included at most once per shader (a second #include of it is
// dropped, so two pieces may both include a third); a cycle, a missing file or a malformed directive
// is an error naming the including file and line. `lines` maps the expanded text back to the real
// files: [first line of a segment in the expanded text, file, its line in that file], 1-based, so
// compiler messages can point at the file a developer edits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIRECTIVE = /^\s*#include\b(.*)$/;

/**
 * Expands the includes of `rel` (a path under `root`). Returns the text and the line segments.
 * @param {string} root
 * @param {string} rel
 * @returns {{ text: string, lines: [number, string, number][], included: string[] }}
 */
export function expandIncludes(root, rel) {
  const out = [];
  const lines = [];
  const included = new Set();
  const emit = (file, fileLine, text) => {
    const last = lines[lines.length - 1];
    // A new segment whenever the source file or its line numbering stops running on.
    if (!last || last[1] !== file || last[2] + (out.length + 1 - last[0]) !== fileLine) lines.push([out.length + 1, file, fileLine]);
    out.push(text);
  };
  const walk = (file, stack) => {
    const path = join(root, file);
    if (!existsSync(path)) throw new Error(`${stack.at(-1) ?? file}: #include "${file}": no such file under shaders/`);
    const src = readFileSync(path, 'utf8').split('\n');
    if (src.at(-1) === '') src.pop();
    src.forEach((text, i) => {
      const m = DIRECTIVE.exec(text);
      if (!m) {
        emit(file, i + 1, text);
        return;
      }
      const where = `shaders/${file}:${i + 1}`;
      const arg = /^\s+"([^"]+)"\s*(\/\/.*)?$/.exec(m[1]);
      if (!arg) throw new Error(`${where}: malformed #include; write #include "dir/name.part.wgsl"`);
      const target = arg[1];
      if (!target.endsWith('.part.wgsl')) throw new Error(`${where}: #include "${target}": only *.part.wgsl pieces can be included`);
      if (stack.includes(target) || target === file) throw new Error(`${where}: #include cycle: ${[...stack, file, target].join(' → ')}`);
      if (included.has(target)) return;
      included.add(target);
      if (!existsSync(join(root, target))) throw new Error(`${where}: #include "${target}": no such file under shaders/`);
      walk(target, [...stack, file]);
    });
  };
  walk(rel, []);
  return { text: `${out.join('\n')}\n`, lines, included: [...included] };
}

/**
 * Where line `line` (1-based) of an expanded shader comes from, as "shaders/file.wgsl:N".
 * @param {[number, string, number][]} lines
 * @param {number} line
 */
export function sourceLine(lines, line) {
  let seg = lines[0];
  for (const s of lines) if (s[0] <= line) seg = s;
  return seg ? `shaders/${seg[1]}:${seg[2] + (line - seg[0])}` : `line ${line}`;
}
