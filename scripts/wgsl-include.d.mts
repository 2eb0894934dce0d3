// Types of scripts/wgsl-include.mjs (the shader build's #include step), for the tests that import it.
export function expandIncludes(root: string, rel: string): { text: string; lines: [number, string, number][]; included: string[] };
export function sourceLine(lines: [number, string, number][], line: number): string;
