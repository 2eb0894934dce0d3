import { defineConfig } from 'vitest/config';

// GPU tests get one software-Vulkan device per worker process; two cores, so at most two workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
