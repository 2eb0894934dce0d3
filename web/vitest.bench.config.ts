import { defineConfig } from 'vitest/config';

// `npm run bench:page`: the page's latency measurements (not part of `npm test`).
export default defineConfig({
  test: { include: ['web/bench/*.bench.ts'], testTimeout: 3_600_000, pool: 'forks', maxWorkers: 1, globalSetup: ['test/global-setup.ts'] },
});
