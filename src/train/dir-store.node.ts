/** A run folder on disk as a RunStore: atomic writes (temp file + rename), so a crash never leaves half a file. */
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../data/io.node.js';
import type { RunStore } from './run-store.js';

/** `.name.tmp-<pid>-…` files are half-written files of a process that was killed (writeFileAtomic). */
const TMP = /^\..+\.tmp-(\d+)-\d+-\d+$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes the temporaries a killed run left in the run folder and its fold folders. */
function removeStaleTemporaries(root: string): void {
  const dirs = [
    root,
    ...readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && /^fold-\d+$/.test(d.name))
      .map((d) => join(root, d.name)),
  ];
  for (const dir of dirs) {
    for (const name of readdirSync(dir)) {
      const m = TMP.exec(name);
      if (m && !alive(Number(m[1]))) unlinkSync(join(dir, name));
    }
  }
}

export class DirStore implements RunStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
    removeStaleTemporaries(root);
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
