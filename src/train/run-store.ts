/**
 * Where a run keeps its files (config, fold plan, checkpoints, results, report). The experiment code
 * only sees this interface, so the same run folder layout lives on disk in Node (`DirStore`,
 * dir-store.node.ts), in the browser's origin-private file system (`OpfsStore`), or in memory.
 */
export interface RunStore {
  read(path: string): Promise<Uint8Array | null>;
  /** Atomic: a reader never sees a half-written file. */
  write(path: string, data: Uint8Array): Promise<void>;
  /** A human-readable location of `path` in this store, for messages ("runs/x/report.html", "OPFS …"). */
  path(rel: string): string;
}

/** A run kept in memory (tests, throw-away runs in a page). */
export class MemoryStore implements RunStore {
  readonly files = new Map<string, Uint8Array>();
  constructor(readonly name = 'memory') {}

  async read(path: string): Promise<Uint8Array | null> {
    const f = this.files.get(path);
    return f ? f.slice() : null;
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    this.files.set(path, data.slice());
  }

  path(rel: string): string {
    return `${this.name}:${rel}`;
  }
}

type OpfsDir = FileSystemDirectoryHandle;

/**
 * A run in the browser's origin-private file system (OPFS): survives a reload, never leaves the
 * machine. Writes go through `createWritable()`, which commits atomically on close; where only
 * sync access handles exist (Safari's workers) the data goes to a temporary file that is renamed.
 */
export class OpfsStore implements RunStore {
  private constructor(
    private readonly root: OpfsDir,
    readonly name: string,
  ) {}

  /** Opens (creating) the folder `name` ("runs/quick-1") under the origin's OPFS root. */
  static async open(name: string): Promise<OpfsStore> {
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (!storage?.getDirectory)
      throw new Error('this browser has no origin-private file system (navigator.storage.getDirectory); runs cannot be kept across reloads');
    let dir = await storage.getDirectory();
    for (const part of name.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
    return new OpfsStore(dir, name);
  }

  /** Lists the sub-folders of `name` under the OPFS root (e.g. the runs kept by the page). */
  static async list(name: string): Promise<string[]> {
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (!storage?.getDirectory) return [];
    let dir = await storage.getDirectory();
    try {
      for (const part of name.split('/').filter(Boolean)) dir = await dir.getDirectoryHandle(part);
    } catch {
      return [];
    }
    const out: string[] = [];
    for await (const [k, h] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) if (h.kind === 'directory') out.push(k);
    return out.sort();
  }

  /** Removes the folder `name` and everything in it. */
  static async remove(name: string): Promise<void> {
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    if (!storage?.getDirectory) return;
    const parts = name.split('/').filter(Boolean);
    let dir = await storage.getDirectory();
    try {
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
      await dir.removeEntry(parts[parts.length - 1]!, { recursive: true });
    } catch {
      // already gone
    }
  }

  private async dirOf(path: string, create: boolean): Promise<{ dir: OpfsDir; file: string } | null> {
    const parts = path.split('/').filter(Boolean);
    let dir = this.root;
    try {
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create });
    } catch {
      return null;
    }
    return { dir, file: parts[parts.length - 1]! };
  }

  async read(path: string): Promise<Uint8Array | null> {
    const loc = await this.dirOf(path, false);
    if (!loc) return null;
    try {
      const fh = await loc.dir.getFileHandle(loc.file);
      return new Uint8Array(await (await fh.getFile()).arrayBuffer());
    } catch {
      return null;
    }
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const loc = await this.dirOf(path, true);
    if (!loc) throw new Error(`${this.path(path)}: cannot create its folder`);
    const fh = await loc.dir.getFileHandle(loc.file, { create: true });
    if ('createWritable' in fh) {
      const w = await fh.createWritable();
      await w.write(data as Uint8Array<ArrayBuffer>);
      await w.close();
      return;
    }
    // Sync access handles (dedicated workers only): write a temporary file, then rename it over the target.
    type SyncHandle = { truncate(n: number): void; write(b: Uint8Array, o: { at: number }): number; flush(): void; close(): void };
    type SyncFile = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncHandle>; move?(dir: OpfsDir, name: string): Promise<void> };
    const tmpName = `.${loc.file}.tmp`;
    const tmp = (await loc.dir.getFileHandle(tmpName, { create: true })) as SyncFile;
    const h = await tmp.createSyncAccessHandle();
    h.truncate(0);
    h.write(data, { at: 0 });
    h.flush();
    h.close();
    if (tmp.move) await tmp.move(loc.dir, loc.file);
    else throw new Error(`${this.path(path)}: this browser's file system cannot write files atomically`);
  }

  path(rel: string): string {
    return `OPFS ${this.name}/${rel}`;
  }
}
