import { defineConfig } from 'vitest/config';

// The Node lane of the interop suite: our engine (in Node) against go-oversync's own example
// server, built from the shared source. Run by interop/run.mjs, or directly:
//   npx vitest run --config interop/vitest.config.ts
export default defineConfig({
  test: {
    include: ['interop/node/**/*.test.ts'],
    environment: 'node',
    // Each file starts its own Go server on its own database; two at a time on a small machine.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    // The first run builds the Go server (downloads modules); cached afterwards.
    hookTimeout: 300_000,
  },
});
