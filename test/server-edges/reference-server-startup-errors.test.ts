/**
 * The reference server refuses bad configuration with a clear message instead of half-starting:
 * an invalid PORT exits 1 before touching any database, and a port already in use rejects
 * startReferenceServer (after closing what it opened).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startReferenceServer } from '../../server/reference/reference-server.ts';
import { createFreshDatabase } from './fixtures/postgres-database.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('reference server startup errors', () => {
  it('exits 1 and names the problem for an invalid PORT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/reference/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: 'eighty', PGLITE_DIR: 'memory://' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('PORT must be an integer from 0 to 65535, got "eighty"');
  });

  it('rejects when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const database = await createFreshDatabase('portbusy');
    try {
      await expect(
        startReferenceServer({ port, host: '127.0.0.1', databaseUrl: database.url, jwtSecret: 'x'.repeat(32), log: () => {} }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await database.drop();
    }
  });
});
