/** A run folder on disk as a RunStore: atomic writes (temp file + rename), so a crash never leaves half a file. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../data/io.node.js';
import type { RunStore } from './run-store.js';

export class DirStore implements RunStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
  }

  path(rel: string): string {
    return join(this.root, rel);
  }

  async read(rel: string): Promise<Uint8Array | null> {
    const p = this.path(rel);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
  }

  async write(rel: string, data: Uint8Array): Promise<void> {
    const p = this.path(rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileAtomic(p, data);
  }
}
