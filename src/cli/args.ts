/**
 * Command-line flags: Node's `util.parseArgs` in strict mode (unknown options, stray words and options
 * used as values are usage errors), then typed, range-checked values. Booleans are `--x` / `--no-x`
 * (`--x=true|false` also reads as expected; `--x=0` is refused rather than guessed).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { type NumberRange, describeRange } from '../train/config.js';

export interface FlagSpec extends NumberRange {
  type: 'boolean' | 'string' | 'number';
  help: string;
  default?: string | number | boolean;
  /** Strings: the allowed values. */
  choices?: readonly string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagValue = string | number | boolean | undefined;
/** `given`: the flags the user typed (the rest hold their defaults), e.g. for presets that explicit flags override. */
export type Parsed = { flags: Record<string, FlagValue>; given: ReadonlySet<string> };

/** Checks one value against its spec; `raw` is what the user typed (for the message). */
export function checkFlag(name: string, s: FlagSpec, raw: string): string | number {
  if (s.type === 'number') {
    const v = raw.trim() === '' ? Number.NaN : Number(raw);
    const bad =
      !Number.isFinite(v) ||
      (s.integer && !Number.isInteger(v)) ||
      (s.min !== undefined && v < s.min) ||
      (s.max !== undefined && v > s.max) ||
      (s.above !== undefined && v <= s.above) ||
      (s.below !== undefined && v >= s.below);
    if (bad) throw new UsageError(`--${name} must be ${describeRange(s)}, got '${raw}'`);
    return v;
  }
  if (raw === '') throw new UsageError(`--${name} needs a value`);
  if (s.choices && !s.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${s.choices.join(', ')}, got '${raw}'`);
  return raw;
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, command: string): Parsed {
  // `--flag=true|false` on a boolean becomes `--flag` / `--no-flag`; anything else after '=' is refused.
  const args = argv.map((a) => {
    const m = /^--([^=]+)=(.*)$/s.exec(a);
    if (!m || spec[m[1]!]?.type !== 'boolean') return a;
    if (m[2] === 'true') return `--${m[1]}`;
    if (m[2] === 'false') return `--no-${m[1]}`;
    throw new UsageError(`--${m[1]} is a switch: write --${m[1]} or --no-${m[1]} (got '${a}')`);
  });
  const options = Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, { type: s.type === 'boolean' ? ('boolean' as const) : ('string' as const) }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = nodeParseArgs({ args, options, strict: true, allowPositionals: false, allowNegative: true }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (e) {
    const known = Object.keys(spec)
      .map((k) => `--${k}`)
      .join(', ');
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. This command does not take positional arguments$/, '');
    throw new UsageError(`${msg} (options: ${known}; see voxelgrad ${command} --help)`);
  }
  const flags: Record<string, FlagValue> = {};
  const given = new Set<string>();
  for (const [k, s] of Object.entries(spec)) {
    const v = values[k];
    if (v === undefined) flags[k] = s.default;
    else {
      given.add(k);
      flags[k] = typeof v === 'boolean' ? v : checkFlag(k, s, v);
    }
  }
  return { flags, given };
}

export function formatHelp(command: string, summary: string, spec: Record<string, FlagSpec>, usage?: string): string {
  const rows = Object.entries(spec).map(([k, s]) => {
    const left = `  --${k}${s.type === 'boolean' ? '' : ` <${s.choices ? s.choices.join('|') : s.type}>`}`;
    const def = s.default !== undefined && s.default !== false ? ` (default: ${s.default})` : '';
    const range =
      s.type === 'number' && (s.min !== undefined || s.max !== undefined || s.above !== undefined || s.below !== undefined) ? ` [${describeRange(s)}]` : '';
    return `${left.padEnd(28)} ${s.help}${range}${def}`;
  });
  return [`voxelgrad ${command}${usage ? ` ${usage}` : ''}`, '', summary, '', 'Options (switches: --x / --no-x):', ...rows].join('\n');
}

/** The adapter flag every GPU command takes. */
export const ADAPTER_FLAG: FlagSpec = { type: 'string', help: 'WebGPU adapter in Node (also VOXELGRAD_ADAPTER)', choices: ['auto', 'swiftshader', 'lavapipe'] };

/** A run that is not finished where the command needs it finished (exit 1, with what to run). */
export class RunIncompleteError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RunIncompleteError';
  }
}
