/**
 * `npm run bench:browser` (→ node dist/bench/browser/run.js; also `voxelgrad bench --browser`): the
 * benches of bench/benches.ts in headless Chromium — the SYSTEM Chromium (scripts/browser.ts, never a
 * downloaded one) with WebGPU on SwiftShader by default — with TensorFlow.js, jax-js and ONNX Runtime
 * Web as peers in the same page on the same adapter. Builds the page (bench/browser/) with Vite's JS
 * API, serves it on 127.0.0.1, and writes, for the adapter the page got:
 *   bench/results/browser-<adapter>[-quick].json   the same schema as the Node results (bench/record.ts)
 *   bench/results/browser-<adapter>[-quick].md     tables with the ratio peer ÷ voxelgrad per row, the goals
 *   bench/results/browser-<adapter>[-quick].html   bar charts, one per bench
 * Options:
 *   --quick            fewer rows and runs (within 10 minutes on a 2-core machine with SwiftShader)
 *   --only a,b         only these benches (matmul, conv, depth-agg, triplet, sgd, batchnorm, maxpool,
 *                      plane-avgpool, network; the old groups norm-pool and head-loss still name their
 *                      parts, with a notice); merged into the JSON
 *   --layers a,b       only rows whose name contains one of these (conv, matmul)
 *   --gpu              the machine's GPU instead of SwiftShader (Chromium flags: scripts/browser.ts)
 *   --adapter NAME     swiftshader (default) | default | d3d11 | opengles (Chromium's --use-webgpu-adapter),
 *                      or low-power | high-performance (requestAdapter's powerPreference)
 *   --peers a,b        tfjs, jax-js, ort (default all), or none
 *   --no-profile       skip the per-kernel GPU profile (timestamp queries) of our rows
 *   --out DIR          where the files go (default bench/results)
 *   --timeout-min N    give up after N minutes (default 120; --quick 30)
 *   --verbose          print every console message of the page
 *   --render FILE.json only rewrite FILE.md and FILE.html from a results file (no run)
 * The flags are parsed as every voxelgrad command parses them (src/cli/bench.ts; usage errors exit 2).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HARDWARE_GPU_FLAGS, SWIFTSHADER_FLAGS, launchChromium, serveDir } from '../../scripts/browser.js';
import { UsageError, formatHelp, parseArgs } from '../../src/cli/args.js';
import { CHROMIUM_ADAPTERS, POWER_PREFERENCES, browserBenchFlags, checkBenchFlags, listFlag } from '../../src/cli/bench.js';
import { describeError } from '../../src/cli/main.js';
import { BENCH_NAMES, expandBenchAliases, unknownBenchMessage } from '../benches.js';
import { type BenchRecord, type BenchResults, adapterSlug, mergeResults } from '../record.js';
import { renderHtml, renderMarkdown } from '../report.js';
import { ALL_PEERS, type PageConfig, type PageSummary, type PeerChoice } from './protocol.js';

export interface BrowserBenchOptions {
  quick?: boolean;
  only?: string[];
  layers?: string[];
  gpu?: boolean;
  adapter?: string;
  peers?: PeerChoice[];
  profile?: boolean;
  outDir?: string;
  timeoutMin?: number;
  /** Print every console message of the page (default: warnings and errors). */
  verbose?: boolean;
  /** Line sink for progress (default stdout). */
  log?: (line: string) => void;
}

export interface BrowserBenchResult {
  results: BenchResults;
  files: { json: string; md: string; html: string };
  seconds: number;
}

const POWER: readonly string[] = POWER_PREFERENCES;
const ADAPTERS: readonly string[] = CHROMIUM_ADAPTERS;
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

/** The repository root (the page is built from the sources, so the bench runs from a checkout). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'bench', 'browser', 'index.html')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new UsageError(
    'the browser bench builds its page from the sources (bench/browser/): run it from a voxelgrad checkout (npm run bench:browser), not an installed package',
  );
}

function version(root: string, pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Chromium switches for the requested adapter. */
export function chromiumFlags(opts: Pick<BrowserBenchOptions, 'gpu' | 'adapter'>): {
  base: 'gpu' | 'swiftshader';
  extra: string[];
  power?: GPUPowerPreference;
} {
  const a = opts.adapter;
  if (a && !ADAPTERS.includes(a) && !POWER.includes(a)) {
    throw new UsageError(`--adapter ${a}: not an adapter Chromium can be asked for (${[...ADAPTERS, ...POWER].join(', ')})`);
  }
  if (!opts.gpu && (!a || a === 'swiftshader')) return { base: 'swiftshader', extra: [] };
  if (!opts.gpu && a && a !== 'swiftshader' && !POWER.includes(a)) throw new UsageError(`--adapter ${a} needs --gpu (without it the page runs on SwiftShader)`);
  const extra = a && ADAPTERS.includes(a) ? [`--use-webgpu-adapter=${a}`] : [];
  return { base: opts.gpu ? 'gpu' : 'swiftshader', extra, ...(a && POWER.includes(a) ? { power: a as GPUPowerPreference } : {}) };
}

/**
 * CPU seconds used so far by a process and its descendants (Linux /proc; undefined elsewhere): the
 * browser's processes (SwiftShader runs in its GPU process) are not children the runner waits for, so
 * getrusage cannot see them. With the wall time it tells what the run would take on an idle machine.
 */
export function processTreeCpuSeconds(root: number): number | undefined {
  if (process.platform !== 'linux' || !existsSync('/proc')) return undefined;
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(f[1]));
      cpu.set(Number(e), Number(f[11]) + Number(f[12])); // utime + stime, in clock ticks (USER_HZ = 100)
    } catch {
      // the process ended meanwhile
    }
  }
  let ticks = 0;
  for (const [pid, t] of cpu) {
    for (let p: number | undefined = pid; p; p = parent.get(p)) {
      if (p === root) {
        ticks += t;
        break;
      }
    }
  }
  return ticks / 100;
}

/** Builds the page with Vite into a fresh temporary folder; returns it. */
async function buildPage(root: string): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'voxelgrad-bench-page-'));
  const { build, createLogger } = await import('vite');
  const warnings: string[] = [];
  const logger = createLogger('warn', { allowClearScreen: false });
  logger.warn = (msg) => void warnings.push(msg);
  logger.warnOnce = (msg) => void warnings.push(msg);
  await build({
    root: join(root, 'bench', 'browser'),
    logLevel: 'warn',
    customLogger: logger,
    configFile: false,
    build: { outDir: out, emptyOutDir: true, target: 'esnext', reportCompressedSize: false, chunkSizeWarningLimit: 100_000 },
  });
  if (warnings.length) throw new Error(`building the bench page gave warnings:\n${warnings.join('\n')}`);
  return out;
}

export async function runBrowserBench(opts: BrowserBenchOptions = {}): Promise<BrowserBenchResult> {
  const t0 = performance.now();
  const log = opts.log ?? ((s: string) => console.log(s));
  const root = repoRoot();
  // Old group names (norm-pool, head-loss) expand to the per-op benches they became, with a notice.
  const expanded = opts.only && expandBenchAliases(opts.only);
  for (const n of expanded?.notices ?? []) log(n);
  const only = expanded?.names;
  const unknown = (only ?? []).filter((s) => !BENCH_NAMES.includes(s));
  if (unknown.length) throw new UsageError(unknownBenchMessage(unknown));
  const peers = opts.peers ?? [...ALL_PEERS];
  const bad = peers.filter((p) => !ALL_PEERS.includes(p));
  if (bad.length) throw new UsageError(`unknown peer ${bad.join(', ')} (peers: ${ALL_PEERS.join(', ')})`);
  const flags = chromiumFlags(opts);
  const quick = Boolean(opts.quick);
  const config: PageConfig = {
    quick,
    benches: BENCH_NAMES.filter((s) => !only || only.includes(s)),
    ...(opts.layers ? { layers: opts.layers } : {}),
    peers,
    profile: opts.profile ?? true,
    ...(opts.verbose ? { verbose: true } : {}),
    ...(flags.power ? { powerPreference: flags.power } : {}),
    versions: { tfjs: version(root, '@tensorflow/tfjs-backend-webgpu'), 'jax-js': version(root, '@jax-js/jax'), ort: version(root, 'onnxruntime-web') },
  };

  log(`building the bench page (Vite)…`);
  const pageDir = await buildPage(root);
  const server = await serveDir(pageDir);
  const chromeArgs = flags.extra;
  const chrome = await launchChromium({ gpu: flags.base === 'gpu', args: chromeArgs });
  const allFlags = [...(flags.base === 'gpu' ? HARDWARE_GPU_FLAGS : SWIFTSHADER_FLAGS), ...chromeArgs];
  const loadStart = load();
  log(
    `headless Chromium (${flags.base === 'gpu' ? 'machine GPU' : 'SwiftShader'}${chromeArgs.length ? `, ${chromeArgs.join(' ')}` : ''}); host load average ${loadStart.join(' ')}`,
  );
  const benches: BenchResults['benches'] = {};
  let current = '';
  let benchStart = 0;
  let mark = loadStart;
  const benchLoad: Record<string, number[]> = {};
  try {
    const page = await chrome.browser.newPage();
    page.on('console', (m) => {
      const t = m.type();
      if (opts.verbose || t === 'error' || t === 'warn') log(`  [page ${t}] ${m.text()}`);
    });
    page.on('pageerror', (e) => log(`  [page error] ${e instanceof Error ? e.message : String(e)}`));
    let done!: (s: PageSummary) => void;
    const finished = new Promise<PageSummary>((ok) => (done = ok));
    await page.evaluateOnNewDocument((cfg: PageConfig) => {
      (window as unknown as { __benchConfig: PageConfig }).__benchConfig = cfg;
    }, config);
    const finishBench = () => {
      const b = current ? benches[current] : undefined;
      if (b) {
        b.seconds = (performance.now() - benchStart) / 1000;
        b.date = new Date().toISOString();
        b.loadavg = { start: benchLoad[current]!, end: load() };
      }
    };
    await page.exposeFunction('__benchStart', (stem: string) => {
      finishBench();
      current = stem;
      benchStart = performance.now();
      mark = load();
      benchLoad[stem] = mark;
      benches[stem] = { seconds: 0, date: new Date().toISOString(), quick, records: [] };
    });
    await page.exposeFunction('__benchEmit', (stem: string, r: BenchRecord) => {
      const end = load();
      // A shared row (the copy ceiling) keeps the load average of its measurement.
      r.loadavg ??= { start: mark, end };
      mark = end;
      benches[stem]!.records.push(r);
      return r.loadavg;
    });
    await page.exposeFunction('__benchLog', (line: string) => log(line));
    await page.exposeFunction('__benchDone', (s: PageSummary) => {
      finishBench();
      done(s);
    });
    await page.goto(server.url);
    const limitMin = opts.timeoutMin ?? (quick ? 30 : 120);
    let timer: NodeJS.Timeout | undefined;
    const summary = await Promise.race([
      finished,
      new Promise<never>((_, no) => (timer = setTimeout(() => no(new Error(`the bench page did not finish within ${limitMin} minutes`)), limitMin * 60_000))),
    ]).finally(() => clearTimeout(timer));
    if (summary.error) throw new Error(`the bench page failed: ${summary.error}`);
    const pid = chrome.browser.process()?.pid;
    const browserCpu = pid ? processTreeCpuSeconds(pid) : undefined;
    const nodeCpu = (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
    const a = summary.adapter!;
    if (flags.base === 'gpu' && (a.isFallbackAdapter || /swiftshader/i.test(`${a.description} ${a.architecture}`))) {
      log(
        `WARNING: --gpu was asked for, but Chromium gave ${a.description || a.architecture} (a fallback/CPU adapter): check the GPU driver and the flags in scripts/browser.ts`,
      );
    }
    const ua = summary.userAgent ?? '';
    let results: BenchResults = {
      adapter: { description: a.description, vendor: a.vendor, architecture: a.architecture, device: a.device, backend: 'chromium navigator.gpu' },
      date: new Date().toISOString(),
      quick,
      node: process.version,
      loadavg: { start: loadStart, end: load() },
      browser: {
        userAgent: ua,
        flags: allFlags,
        engines: Object.fromEntries(peers.filter((p) => !summary.unavailable?.[p]).map((p) => [p, config.versions[p]!])),
        timestampQuery: Boolean(summary.timestampQuery),
        seconds: (performance.now() - t0) / 1000,
        ...(browserCpu !== undefined ? { cpuSeconds: Math.round(browserCpu + nodeCpu) } : {}),
      },
      benches,
    };
    const name = `browser-${adapterSlug(a.architecture && /swiftshader/i.test(a.architecture) ? 'swiftshader' : a.description || a.architecture)}${quick ? '-quick' : ''}`;
    const outDir = resolve(opts.outDir ?? join(root, 'bench', 'results'));
    mkdirSync(outDir, { recursive: true });
    const json = join(outDir, `${name}.json`);
    if ((opts.only || opts.layers) && existsSync(json))
      results = mergeResults(JSON.parse(readFileSync(json, 'utf8')) as BenchResults, results, Boolean(opts.layers));
    const files = { json, md: join(outDir, `${name}.md`), html: join(outDir, `${name}.html`) };
    writeFileSync(files.json, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(files.md, renderMarkdown(results));
    writeFileSync(files.html, renderHtml(results));
    const seconds = (performance.now() - t0) / 1000;
    const cpuNote =
      results.browser!.cpuSeconds !== undefined ? `; the bench used ${results.browser!.cpuSeconds} CPU-seconds (Chromium's processes and this one)` : '';
    log(`\nhost load average at the end ${results.loadavg!.end.join(' ')}; ${seconds.toFixed(0)} s in all${cpuNote}`);
    log(`wrote ${files.json}\n      ${files.md}\n      ${files.html}`);
    return { results, files, seconds };
  } finally {
    await chrome.close();
    await server.close();
    rmSync(pageDir, { recursive: true, force: true });
  }
}

/** Options from the command line (flags: src/cli/bench.ts, parsed as every voxelgrad command parses them). */
export function parseBrowserArgs(argv: string[]): BrowserBenchOptions & { help?: boolean; render?: string } {
  const { flags } = parseArgs(argv, browserBenchFlags, 'bench --browser');
  checkBenchFlags(flags, true);
  const peerList = listFlag(flags.peers);
  const peers = peerList && (peerList.length === 1 && peerList[0] === 'none' ? [] : (peerList as PeerChoice[]));
  const bad = (peers ?? []).filter((p) => !ALL_PEERS.includes(p));
  if (bad.length) throw new UsageError(`--peers: unknown peer ${bad.join(', ')} (peers: ${ALL_PEERS.join(', ')}, or none)`);
  // The old group names are accepted here and expanded (with their notice) by runBrowserBench.
  const unknown = expandBenchAliases(listFlag(flags.only) ?? []).names.filter((s) => !BENCH_NAMES.includes(s));
  if (unknown.length) throw new UsageError(`--only: ${unknownBenchMessage(unknown, BENCH_NAMES, 'benches in the page')}`);
  return {
    quick: Boolean(flags.quick),
    gpu: Boolean(flags.gpu),
    profile: flags.profile !== false,
    verbose: Boolean(flags.verbose),
    ...(flags.help ? { help: true } : {}),
    ...(flags.render ? { render: String(flags.render) } : {}),
    ...(flags.only ? { only: listFlag(flags.only)! } : {}),
    ...(flags.layers ? { layers: listFlag(flags.layers)! } : {}),
    ...(flags.adapter ? { adapter: String(flags.adapter) } : {}),
    ...(peers ? { peers } : {}),
    ...(flags.out ? { outDir: String(flags.out) } : {}),
    ...(flags['timeout-min'] !== undefined ? { timeoutMin: Number(flags['timeout-min']) } : {}),
  };
}

/** Rewrites the Markdown and HTML of a results file (after a change to bench/report.ts). */
export function renderFiles(json: string): { md: string; html: string } {
  const res = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
  const base = json.replace(/\.json$/, '');
  writeFileSync(`${base}.md`, renderMarkdown(res));
  writeFileSync(`${base}.html`, renderHtml(res));
  return { md: `${base}.md`, html: `${base}.html` };
}

// Run as a script (node dist/bench/browser/run.js …), not when imported (the test, the CLI).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const job = (async () => {
    const opts = parseBrowserArgs(process.argv.slice(2));
    if (opts.help)
      console.log(
        formatHelp(
          'bench --browser',
          'npm run bench:browser -- [options]: the benches in headless Chromium with TensorFlow.js, jax-js and ONNX Runtime Web in the same page; writes bench/results/browser-<adapter>.{json,md,html}.',
          browserBenchFlags,
        ),
      );
    else if (opts.render) {
      const f = renderFiles(opts.render);
      console.log(`wrote ${f.md}\n      ${f.html}`);
    } else await runBrowserBench(opts);
  })();
  job.then(
    () => process.exit(0),
    (e: unknown) => {
      const { code, message } = describeError(e);
      console.error(`bench --browser: ${message}`);
      if (process.env.VOXELGRAD_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
      process.exit(code);
    },
  );
}
