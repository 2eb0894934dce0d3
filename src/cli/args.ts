/** A small, strict argument parser: unknown flags are errors that list the known ones. */
export interface FlagSpec {
  type: 'boolean' | 'string' | 'number';
  help: string;
  default?: string | number | boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Parsed = { flags: Record<string, string | number | boolean | undefined>; positional: string[] };

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, command: string): Parsed {
  const flags: Parsed['flags'] = {};
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) flags[k] = s.default;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (!s) throw new UsageError(`${command}: unknown option --${name} (options: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    if (s.type === 'boolean') {
      flags[name] = eq > 0 ? a.slice(eq + 1) !== 'false' : true;
      continue;
    }
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`${command}: --${name} needs a value`);
    if (s.type === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`${command}: --${name} must be a number, got '${v}'`);
      flags[name] = n;
    } else flags[name] = v;
  }
  return { flags, positional };
}

export function formatHelp(command: string, summary: string, spec: Record<string, FlagSpec>, usage?: string): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const left = `  --${k}${s.type === 'boolean' ? '' : ` <${s.type}>`}`;
    const def = s.default !== undefined && s.default !== false ? ` (default: ${s.default})` : '';
    return `${left.padEnd(28)} ${s.help}${def}`;
  });
  return [`voxelgrad ${command}${usage ? ` ${usage}` : ''}`, '', summary, '', 'Options:', ...rows].join('\n');
}
