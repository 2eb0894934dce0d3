/**
 * The page (web/): `npm run page` serves it on 127.0.0.1 with hot reload, `npm run build:page` writes
 * static files to dist/web. The engine is imported from this repository's sources as 'voxelgrad' — by
 * the worker only, so the main-thread bundle holds the UI and the viewer and no engine code.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// WebGPU needs a secure context (127.0.0.1 is one); cross-origin isolation as the test server serves it.
const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: here('.'),
  base: './',
  resolve: { alias: [{ find: /^voxelgrad$/, replacement: here('../src/index.ts') }] },
  worker: { format: 'es' },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // NiiVue (the viewer, ~1 MB minified) is one chunk, loaded when the first volume is shown.
    chunkSizeWarningLimit: 1400,
    // Rolldown warns when plugins are slow; on a busy machine that says nothing about the page.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: { host: '127.0.0.1', port: 5173, headers },
  preview: { host: '127.0.0.1', port: 4173, headers },
});
