/** Output folders are checked before any work starts, so a bad --out fails in a second, not after loading. */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { UsageError } from './args.js';

/** Creates `path` (and its parents) if needed and checks it is a writable folder. */
export function checkOutputDir(path: string, flag = '--out'): void {
  if (existsSync(path) && !statSync(path).isDirectory()) throw new UsageError(`${flag} ${path} is a file, not a folder; choose another path`);
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a part of the path is a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : (e as Error).message;
    throw new UsageError(`${flag} ${path} cannot be used as an output folder (${why}); choose another path`);
  }
}
