import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests that hit SQLite errors on purpose (constraint violations, bad SQL) make sqlite-wasm warn
// `sqlite3_step() rc= …` on the console besides throwing. Those lines go to this log instead, so
// the console shows only what a person needs to read. One file per database engine of the run.
const sqliteWarningsLog = `test-results/sqlite-warnings${process.env.OVERSQLITE_TEST_DB === 'pglite' ? '-pglite' : ''}.log`;
mkdirSync('test-results', { recursive: true });
writeFileSync(sqliteWarningsLog, '');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Server integration tests share one PostgreSQL; each test file isolates itself in its own database.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    onConsoleLog(log, type) {
      if (type !== 'stderr' || !log.startsWith('sqlite3_step() rc=')) return;
      const plain = log.replace(/\x1b\[[0-9;]*m/g, ''); // the console's colours
      appendFileSync(sqliteWarningsLog, plain.endsWith('\n') ? plain : `${plain}\n`);
      return false;
    },
  },
});
