/** scripts/setup.sh takes the backports mirror and keyring from the machine's own Debian sources. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../scripts/setup.sh');
const mirror = (root: string) =>
  execFileSync('bash', ['-c', `source <(sed -n '/^debian_mirror()/,/^}/p' "${script}"); debian_mirror "${root}"`], { encoding: 'utf8' }).trim();

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'vg-apt-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe('setup.sh: the Debian mirror for bookworm-backports', () => {
  it("uses a deb822 source's URI and keyring, skipping the security suite", () => {
    const root = fakeRoot({
      'etc/apt/sources.list.d/debian.sources':
        'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /k/sec.gpg\n\n' +
        'Types: deb\nURIs: http://mirror.example.lan/debian\nSuites: bookworm\nComponents: main\nSigned-By: /k/main.gpg\n',
    });
    expect(mirror(root)).toBe('http://mirror.example.lan/debian /k/main.gpg');
  });

  it('reads the one-line format (a proxy URI with signed-by), and falls back to deb.debian.org', () => {
    const root = fakeRoot({ 'etc/apt/sources.list': 'deb [arch=amd64 signed-by=/k/x.gpg] http://127.0.0.1:3142/debian bookworm main contrib\n' });
    expect(mirror(root)).toBe('http://127.0.0.1:3142/debian /k/x.gpg');
    expect(mirror(fakeRoot({ 'etc/apt/sources.list': '' }))).toBe('http://deb.debian.org/debian /usr/share/keyrings/debian-archive-keyring.gpg');
  });
});
