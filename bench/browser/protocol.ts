/** What the Node runner (bench/browser/run.ts) and the page (bench/browser/main.ts) exchange. */
import type { BenchRecord } from '../record.js';

export type PeerChoice = 'tfjs' | 'jax-js' | 'ort';
export const ALL_PEERS: readonly PeerChoice[] = ['tfjs', 'jax-js', 'ort'];

/** Set by the runner before the page loads (`window.__benchConfig`). */
export interface PageConfig {
  quick: boolean;
  benches: string[];
  layers?: string[];
  peers: PeerChoice[];
  profile: boolean;
  /** Peers log verbosely (ONNX Runtime's node placement, …). */
  verbose?: boolean;
  powerPreference?: GPUPowerPreference;
  /** Installed versions of the peers (read from their package.json by the runner). */
  versions: Record<string, string>;
}

/** What the page reports when it is done. */
export interface PageSummary {
  error?: string;
  adapter?: { description: string; vendor: string; architecture: string; device: string; backend: string; isFallbackAdapter: boolean };
  userAgent?: string;
  timestampQuery?: boolean;
  /** Peers that were asked for and did not start, and why. */
  unavailable?: Record<string, string>;
}

/** Functions the runner exposes to the page. */
export interface RunnerBridge {
  __benchConfig: PageConfig;
  __benchStart(stem: string): Promise<void>;
  /** A finished row; resolves with the load averages the runner stamped on it. */
  __benchEmit(stem: string, record: BenchRecord): Promise<{ start: number[]; end: number[] }>;
  __benchLog(line: string): Promise<void>;
  __benchDone(summary: PageSummary): Promise<void>;
}
