/**
 * The cohort manifest: one CSV format for real and synthetic cohorts.
 *
 *   subject,path,label,slices,roi,fold
 *   P001,vols/P001.nii.gz,T3,11;12;13,10:22;40:200;30:190,4
 *   P002,vols/P002.nii.gz,T2,9,,
 *
 * - subject: unique id (any text without surrounding spaces).
 * - path: the NIfTI file; relative paths are relative to the manifest's folder (`baseDir`).
 * - label: T2 or T3 (case-insensitive on input, written upper-case).
 * - slices: 1 to 3 representative slice indices along D (after the loader's reorientation), 0-based,
 *   separated by ';'.
 * - roi (optional): `d0:d1;h0:h1;w0:w1`, 0-based half-open voxel ranges along D, H, W; `*` for a whole
 *   axis (e.g. `*;40:200;30:190`). Empty = no ROI (centred crop, if any, is the caller's choice).
 * - fold (optional): fixed cross-validation fold, a non-negative integer. Empty = assigned by the runner.
 * Header row required; columns may come in any order; roi and fold columns may be omitted. Blank lines and
 * lines starting with '#' are ignored. Fields may be double-quoted (RFC 4180) when they contain commas.
 * Slice indices and ROI bounds can only be checked against a volume, so `checkRowAgainstVolume` does
 * that once the volume is loaded. Parsing is browser-safe: file existence goes through `exists`.
 */
import { InputError } from '../util/errors.js';

export type StageLabel = 'T2' | 'T3';

/** Half-open [start, end) range, or null for the whole axis. */
export type RoiRange = [number, number] | null;

export interface Roi {
  d: RoiRange;
  h: RoiRange;
  w: RoiRange;
}

export interface ManifestEntry {
  subject: string;
  path: string;
  label: StageLabel;
  slices: number[];
  roi?: Roi;
  fold?: number;
}

export interface ManifestRow extends ManifestEntry {
  /** 1-based line of the manifest where the row starts. */
  line: number;
  /** `path` resolved against `baseDir`. */
  file: string;
}

export interface ParseManifestOptions {
  /** Manifest name used in error messages. */
  name?: string;
  /** Folder that relative paths are relative to. */
  baseDir?: string;
  /** Existence check for each resolved file path (e.g. fs.existsSync in Node); skipped when absent. */
  exists?: (path: string) => boolean;
}

export const MANIFEST_COLUMNS = ['subject', 'path', 'label', 'slices', 'roi', 'fold'] as const;
const REQUIRED = ['subject', 'path', 'label', 'slices'];

/** Splits CSV text into records of fields, each with the 1-based line where it starts. */
function parseCsv(text: string): { line: number; fields: string[]; malformed?: string }[] {
  const out: { line: number; fields: string[]; malformed?: string }[] = [];
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let malformed: string | undefined;
    let atFieldStart = true;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else {
            quoted = false;
          }
        } else {
          if (ch === '\n') line++;
          field += ch;
        }
        continue;
      }
      if (ch === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        continue;
      }
      if (ch === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        continue;
      }
      if (ch === '\n' || ch === '\r') {
        if (ch === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      }
      if (ch === '"') malformed = 'stray double quote inside an unquoted field';
      field += ch;
      atFieldStart = false;
    }
    if (quoted) malformed = 'unterminated double quote';
    fields.push(field);
    const rec: { line: number; fields: string[]; malformed?: string } = { line: start, fields };
    if (malformed) rec.malformed = malformed;
    out.push(rec);
  }
  return out;
}

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p) || /^[a-z][a-z0-9+.-]*:\/\//i.test(p);
}

/** Joins a manifest-relative path onto the manifest's folder (absolute paths and URLs pass through). */
export function resolveManifestPath(baseDir: string | undefined, p: string): string {
  if (!baseDir || isAbsolutePath(p)) return p;
  const sep = baseDir.includes('\\') && !baseDir.includes('/') ? '\\' : '/';
  return baseDir.endsWith('/') || baseDir.endsWith('\\') ? baseDir + p : baseDir + sep + p;
}

/** A 0-based index: digits only, and a number that stays exact (1e20 would round). */
function parseIndex(s: string): number | null {
  const n = /^\d{1,15}$/.test(s) ? Number(s) : Number.NaN;
  return Number.isSafeInteger(n) ? n : null;
}

/** Parses `1;2;3` into slice indices; null when malformed. */
export function parseSlices(text: string): number[] | null {
  const parts = text.split(';').map((s) => s.trim());
  if (parts.length < 1 || parts.length > 3) return null;
  const out: number[] = [];
  for (const p of parts) {
    const n = parseIndex(p);
    if (n === null || out.includes(n)) return null;
    out.push(n);
  }
  return out;
}

/** Parses `d0:d1;h0:h1;w0:w1` (with `*` for a whole axis); throws with the reason when malformed. */
export function parseRoi(text: string): Roi {
  const parts = text.split(';').map((s) => s.trim());
  if (parts.length !== 3) throw new Error(`ROI '${text}' must have three ';'-separated ranges d0:d1;h0:h1;w0:w1`);
  const ranges = parts.map((p, k): RoiRange => {
    if (p === '*') return null;
    const m = /^(\d{1,15})\s*:\s*(\d{1,15})$/.exec(p);
    if (!m) throw new Error(`ROI range '${p}' (axis ${'DHW'[k]}) must be start:end with 0-based integers, or *`);
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (b <= a) throw new Error(`ROI range '${p}' (axis ${'DHW'[k]}) is empty: end must be greater than start`);
    return [a, b];
  });
  return { d: ranges[0]!, h: ranges[1]!, w: ranges[2]! };
}

export function formatRoi(roi: Roi): string {
  return [roi.d, roi.h, roi.w].map((r) => (r ? `${r[0]}:${r[1]}` : '*')).join(';');
}

/**
 * Parses and validates a manifest. All problems are collected and thrown together, one per line, each
 * with its line number.
 */
export function parseManifest(text: string, opts: ParseManifestOptions = {}): ManifestRow[] {
  const name = opts.name ?? 'manifest';
  const records = parseCsv(text).filter((r) => {
    const joined = r.fields.join('').trim();
    return joined !== '' && !r.fields[0]!.trimStart().startsWith('#');
  });
  if (records.length === 0) throw new InputError('invalid-field', `${name}: empty manifest; expected a header row '${MANIFEST_COLUMNS.join(',')}'`, name);
  const header = records[0]!;
  const cols = header.fields.map((f) => f.trim().toLowerCase());
  const problems: string[] = [];
  const unknown = cols.filter((c) => !(MANIFEST_COLUMNS as readonly string[]).includes(c));
  const missing = REQUIRED.filter((c) => !cols.includes(c));
  const dupCols = cols.filter((c, i) => cols.indexOf(c) !== i);
  if (unknown.length || missing.length || dupCols.length) {
    throw new InputError(
      'invalid-field',
      `${name}: line ${header.line}: bad header (` +
        [
          missing.length ? `missing column(s) ${missing.join(', ')}` : '',
          unknown.length ? `unknown column(s) ${unknown.join(', ')}` : '',
          dupCols.length ? `repeated column(s) ${dupCols.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ') +
        `); the columns are ${MANIFEST_COLUMNS.join(',')} (roi and fold optional)`,
      name,
    );
  }
  const at = (c: string): number => cols.indexOf(c);
  const rows: ManifestRow[] = [];
  const seen = new Map<string, number>();
  for (const rec of records.slice(1)) {
    const L = `line ${rec.line}`;
    if (rec.malformed) {
      problems.push(`${L}: malformed row (${rec.malformed})`);
      continue;
    }
    if (rec.fields.length !== cols.length) {
      problems.push(`${L}: malformed row: expected ${cols.length} fields (${cols.join(',')}), found ${rec.fields.length}`);
      continue;
    }
    const get = (c: string): string => (at(c) >= 0 ? rec.fields[at(c)]!.trim() : '');
    const subject = get('subject');
    const path = get('path');
    const labelText = get('label');
    const slicesText = get('slices');
    const roiText = get('roi');
    const foldText = get('fold');
    let ok = true;
    const fail = (msg: string): void => {
      problems.push(`${L}${subject ? ` (subject ${subject})` : ''}: ${msg}`);
      ok = false;
    };
    if (!subject) fail('empty subject id');
    else if (seen.has(subject)) fail(`duplicate subject '${subject}' (first on line ${seen.get(subject)})`);
    else seen.set(subject, rec.line);
    if (!path) fail('empty path');
    const upper = labelText.toUpperCase();
    if (upper !== 'T2' && upper !== 'T3') fail(`unknown label '${labelText}' (expected T2 or T3)`);
    const slices = parseSlices(slicesText);
    if (!slices) fail(`slices '${slicesText}' must be 1 to 3 distinct 0-based slice indices separated by ';'`);
    let roi: Roi | undefined;
    if (roiText) {
      try {
        roi = parseRoi(roiText);
      } catch (e) {
        fail((e as Error).message);
      }
    }
    let fold: number | undefined;
    if (foldText) {
      const f = parseIndex(foldText);
      if (f === null) fail(`fold '${foldText}' must be a non-negative integer`);
      else fold = f;
    }
    const file = resolveManifestPath(opts.baseDir, path);
    if (path && opts.exists && !opts.exists(file)) fail(`missing file: ${file}`);
    if (!ok) continue;
    const row: ManifestRow = { subject, path, label: upper as StageLabel, slices: slices!, line: rec.line, file };
    if (roi) row.roi = roi;
    if (fold !== undefined) row.fold = fold;
    rows.push(row);
  }
  if (problems.length) {
    const shown = problems.slice(0, 50);
    const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
    throw new InputError('invalid-field', `${name}: ${problems.length} problem(s):\n  ${shown.join('\n  ')}${more}`, name);
  }
  if (rows.length === 0) throw new InputError('invalid-field', `${name}: the manifest has a header but no subjects`, name);
  return rows;
}

/** Resolves an ROI against volume dims into concrete half-open ranges; throws when out of bounds. */
export function resolveRoi(roi: Roi, dims: readonly [number, number, number], what = 'ROI'): { d: [number, number]; h: [number, number]; w: [number, number] } {
  const axes = ['d', 'h', 'w'] as const;
  const out = {} as { d: [number, number]; h: [number, number]; w: [number, number] };
  axes.forEach((ax, k) => {
    const r = roi[ax] ?? [0, dims[k]!];
    if (r[0] < 0 || r[1] > dims[k]! || r[1] <= r[0]) {
      throw new InputError('unsuitable', `${what}: range ${r[0]}:${r[1]} on axis ${ax.toUpperCase()} is outside the volume's 0:${dims[k]}`);
    }
    out[ax] = [r[0], r[1]];
  });
  return out;
}

/**
 * Checks a row against its loaded volume: representative slices must exist along D and the ROI must fit.
 * Call it right after loading the volume. The message starts with the row's file (a caller that reports
 * the manifest line adds it once); `source` of the InputError names the manifest line and subject.
 */
export function checkRowAgainstVolume(row: ManifestEntry & { line?: number }, dims: readonly [number, number, number], manifestName = 'manifest'): void {
  const where = `${manifestName}${row.line !== undefined ? ` line ${row.line}` : ''} (subject ${row.subject})`;
  for (const s of row.slices) {
    if (s >= dims[0]) {
      throw new InputError(
        'unsuitable',
        `${row.path}: representative slice index ${s} is out of range: the volume has ${dims[0]} slices along D (valid 0..${dims[0] - 1}, 0-based)`,
        where,
      );
    }
  }
  if (row.roi) {
    try {
      resolveRoi(row.roi, dims, `${row.path}: ROI`);
    } catch (e) {
      throw new InputError('unsuitable', (e as Error).message, where);
    }
  }
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes rows in the manifest format (all six columns, in the documented order). */
export function formatManifest(rows: readonly ManifestEntry[]): string {
  const lines = [MANIFEST_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [csvField(r.subject), csvField(r.path), r.label, r.slices.join(';'), r.roi ? formatRoi(r.roi) : '', r.fold !== undefined ? String(r.fold) : ''].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
