/**
 * The browser bench page: the same benches as the Node runner (bench/benches.ts) on navigator.gpu, with
 * TensorFlow.js, jax-js and ONNX Runtime Web as peers on the same adapter. Configured and read by
 * bench/browser/run.ts through puppeteer (bench/browser/protocol.ts); every finished row goes back to
 * Node at once, which stamps the host's load average on it.
 */
import { acquireBrowserGpu } from '../../src/gpu/acquire-browser.js';
import { BENCHES } from '../benches.js';
import type { BenchContext } from '../context.js';
import { sharedCopyCeiling } from '../copy-ceiling.js';
import type { NetPeer } from '../net-peer.js';
import { firstLine, type OpPeer } from '../peer.js';
import { type TfRuntime, startTfjs, tfjsOpPeer } from '../tfjs-peer.js';
import type { PageSummary, RunnerBridge } from './protocol.js';

const w = window as unknown as Window & RunnerBridge;
const out = document.getElementById('out')!;

async function main(): Promise<PageSummary> {
  const cfg = w.__benchConfig;
  const log = async (s: string) => {
    out.textContent += `${s}\n`;
    await w.__benchLog(s);
  };
  const gpu = await acquireBrowserGpu(cfg.powerPreference ? { powerPreference: cfg.powerPreference } : {});
  await log(
    `adapter: ${gpu.adapter.description} (${gpu.adapter.vendor} ${gpu.adapter.architecture})${gpu.adapter.isFallbackAdapter ? ' [fallback adapter]' : ''}; timestamp-query: ${gpu.features.has('timestamp-query') ? 'yes' : 'no'}`,
  );

  const peers: OpPeer[] = [];
  const netPeers: NetPeer[] = [];
  const unavailable: Record<string, string> = {};
  let tfjs: TfRuntime | null = null;
  // Each peer starts its own device on the same adapter (navigator.gpu's choice for this browser).
  for (const name of cfg.peers) {
    try {
      if (name === 'tfjs') {
        const tf = await import('@tensorflow/tfjs-core');
        await import('@tensorflow/tfjs-backend-webgpu');
        await import('@tensorflow/tfjs-core/dist/register_all_gradients' as string); // tfjs-core's ES build registers no gradients itself
        const tfl = await import('@tensorflow/tfjs-layers');
        tfjs = await startTfjs(tf, tfl);
        peers.push(tfjsOpPeer(tfjs));
      } else if (name === 'jax-js') {
        const { startJax } = await import('./jax-peer.js');
        const j = await startJax(cfg.versions['jax-js'] ?? '');
        peers.push(j.op);
        netPeers.push(j.net);
      } else if (name === 'ort') {
        const { startOrt } = await import('./ort-peer.js');
        const o = await startOrt(cfg.versions.ort ?? '', Boolean(cfg.verbose));
        peers.push(o.op);
        netPeers.push(o.net);
      }
      await log(`peer ${name} started`);
    } catch (e) {
      unavailable[name] = firstLine(e);
      await log(`peer ${name} unavailable: ${unavailable[name]}`);
    }
  }

  let stem = '';
  const ctx: BenchContext = {
    quick: cfg.quick,
    ...(cfg.layers ? { layers: cfg.layers } : {}),
    peers,
    tfjs,
    netPeers,
    unavailable,
    profile: cfg.profile,
    log: (s) => void log(s),
    async emit(r) {
      r.loadavg = await w.__benchEmit(stem, r);
      return r;
    },
    copyCeiling: sharedCopyCeiling(() => ctx),
  };
  for (const s of cfg.benches) {
    stem = s;
    await w.__benchStart(s);
    await log(`\n== ${s}`);
    await BENCHES[s]!.run(gpu, ctx);
    await gpu.sync();
  }
  const a = gpu.adapter;
  return {
    adapter: {
      description: a.description,
      vendor: a.vendor,
      architecture: a.architecture,
      device: a.device,
      backend: a.backend,
      isFallbackAdapter: a.isFallbackAdapter,
    },
    userAgent: navigator.userAgent,
    timestampQuery: gpu.features.has('timestamp-query'),
    unavailable,
  };
}

main().then(
  (s) => w.__benchDone(s),
  (e: unknown) => w.__benchDone({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
);
