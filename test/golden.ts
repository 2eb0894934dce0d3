/**
 * Loader for the PyTorch golden fixtures under test/fixtures/golden/ (test-only: uses node:fs).
 * Every fixture is one JSON document; see test/fixtures/golden/README.md for the schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'golden');

export interface GoldenTensor {
  shape: number[];
  /** Values as float64 (int64 tensors such as max-pool indices are exact small integers). */
  data: Float64Array;
  /** 'int64' for integer tensors, else absent (float64). */
  dtype?: 'int64';
}

export interface Golden {
  schema: 1;
  op: string;
  case: string;
  /** torch.__version__ of the generating run. */
  torch: string;
  dtype: 'float64';
  seed: number;
  params: Record<string, unknown>;
  tensors: Record<string, GoldenTensor>;
  /** The path it was loaded from, relative to GOLDEN_DIR. */
  path: string;
  /** The named tensor; throws with the available names if it is missing. */
  get(name: string): GoldenTensor;
}

interface RawTensor {
  shape: number[];
  data: number[];
  dtype?: 'int64';
}

/** Loads `test/fixtures/golden/<relPath>` (e.g. 'kernels/conv3d/k3x3x3_keep_n2.json'). */
export function loadGolden(relPath: string): Golden {
  const raw = JSON.parse(readFileSync(join(GOLDEN_DIR, relPath), 'utf8')) as Omit<Golden, 'tensors' | 'get' | 'path'> & {
    tensors: Record<string, RawTensor>;
  };
  if (raw.schema !== 1) throw new Error(`golden ${relPath} has schema ${String(raw.schema)}; this loader reads schema 1`);
  const tensors: Record<string, GoldenTensor> = {};
  for (const [name, t] of Object.entries(raw.tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      throw new Error(`golden ${relPath}: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]; regenerate the fixture`);
    }
    tensors[name] = { shape: t.shape, data: Float64Array.from(t.data), ...(t.dtype ? { dtype: t.dtype } : {}) };
  }
  return {
    ...raw,
    tensors,
    path: relPath,
    get(name: string): GoldenTensor {
      const t = tensors[name];
      if (!t) throw new Error(`golden ${relPath} has no tensor '${name}'; it has ${Object.keys(tensors).join(', ')}`);
      return t;
    },
  };
}

/** Paths (relative to GOLDEN_DIR, sorted) of every fixture in `relDir`, e.g. listGoldens('kernels/conv3d'). */
export function listGoldens(relDir: string): string[] {
  return readdirSync(join(GOLDEN_DIR, relDir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${relDir}/${f}`);
}
