import { defineConfig } from 'vitest/config';

// Tests import the TypeScript sources; worker threads load the compiled files under dist/
// (`npm test` builds first; test/global-setup.ts builds when dist/ is missing or older than a
// source, so a worker-level test never runs stale code or skips). Tests never depend on wall-clock speed, but worker start-up on a
// loaded 2-core machine can take seconds, hence the generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
