/**
 * The page's handle on the engine worker: requests as promises, events as callbacks. The worker is
 * the only place the engine runs, so the page stays responsive whatever the GPU does.
 */
import type { Request, Response, WorkerError, WorkerEvent } from './protocol.js';

export class EngineError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

type Handler<E> = (e: E) => void;

export class EngineClient {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, { ok: (v: unknown) => void; fail: (e: EngineError) => void }>();
  private handlers = new Map<string, Set<Handler<WorkerEvent>>>();

  constructor() {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'voxelgrad-engine' });
    this.worker.onmessage = (ev: MessageEvent<Response | WorkerEvent>) => {
      const m = ev.data;
      if ('id' in m) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.ok(m.result);
        else p?.fail(new EngineError(m.error.kind, m.error.message));
        return;
      }
      for (const h of this.handlers.get(m.type) ?? []) h(m);
      for (const h of this.handlers.get('*') ?? []) h(m);
    };
    this.worker.onerror = (ev) => {
      // A worker that cannot start (script error) fails every pending request with the reason.
      const err: WorkerError = { kind: 'worker', message: `the engine worker stopped: ${ev.message || 'script error'}` };
      for (const p of this.pending.values()) p.fail(new EngineError(err.kind, err.message));
      this.pending.clear();
    };
  }

  request<T>(req: Request, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      this.pending.set(id, { ok: ok as (v: unknown) => void, fail });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  on<K extends WorkerEvent['type']>(type: K | '*', fn: Handler<Extract<WorkerEvent, { type: K }>>): void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(fn as Handler<WorkerEvent>);
  }
}
