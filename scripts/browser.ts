/**
 * Headless Chromium for page tests, the browser bench and screenshots: the SYSTEM Chromium (never a
 * downloaded one; $VOXELGRAD_CHROMIUM or /usr/bin/chromium) driven by puppeteer, with WebGPU on
 * SwiftShader by default or on the machine's GPU, a fresh profile per launch, and a static file
 * server on 127.0.0.1 (WebGPU needs a secure context: http://127.0.0.1 is one, about:blank is not).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';

/** WebGPU on SwiftShader (CPU), the same in every headless Chromium. */
export const SWIFTSHADER_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader'];

/**
 * WebGPU on the machine's GPU from headless Chromium on Linux: Vulkan with the vendor's ICD installed
 * (e.g. nvidia-driver's nvidia_icd.json), the GPU blocklist ignored (headless otherwise often falls back
 * to SwiftShader).
 */
export const HARDWARE_GPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,VulkanFromANGLE',
  '--use-angle=vulkan',
  '--ignore-gpu-blocklist',
  '--enable-gpu',
];

const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string {
  const p = process.env.VOXELGRAD_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(p)) {
    throw new Error(
      `Chromium not found at ${p}: install Debian's chromium (bash scripts/setup.sh does) or point VOXELGRAD_CHROMIUM at a Chromium/Chrome binary`,
    );
  }
  return p;
}

export interface LaunchOptions {
  /** Use the machine's GPU instead of SwiftShader. */
  gpu?: boolean;
  /** More Chromium switches (e.g. --disable-features=WebGPUSubgroups to test without subgroups). */
  args?: string[];
}

export interface ChromiumSession {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<ChromiumSession> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'voxelgrad-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    protocolTimeout: 30 * 60_000,
    args: ['--headless', ...QUIET_FLAGS, ...(opts.gpu ? HARDWARE_GPU_FLAGS : SWIFTSHADER_FLAGS), ...(opts.args ?? []), `--user-data-dir=${userDataDir}`],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
  '.safetensors': 'application/octet-stream',
  '.gz': 'application/gzip',
  '.nii': 'application/octet-stream',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` read-only on 127.0.0.1 (a free port). Cross-origin isolated, as the page expects. */
export async function serveDir(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-store',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}

/** Collects console errors and uncaught page errors (a page test asserts there are none). */
export function watchConsole(page: Page): { errors: string[]; messages: string[] } {
  const out = { errors: [] as string[], messages: [] as string[] };
  page.on('console', (m) => {
    const line = `${m.type()}: ${m.text()}`;
    out.messages.push(line);
    if (m.type() === 'error') out.errors.push(line);
  });
  page.on('pageerror', (e) => out.errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  return out;
}
