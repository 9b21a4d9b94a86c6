/**
 * `server/reference/main.ts` as a real child process with no DATABASE_URL (so on PGlite), on a free
 * port: dummy sign-in, capabilities with the token, 401 for bad tokens, one log line per request,
 * a watch stream woken by a server write (LISTEN/NOTIFY on PGlite), and a graceful SIGTERM (open
 * watch stream ended, exit code 0).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/dev-token.ts';
import { DEV_JWT_SECRET } from '../../server/reference/reference-server.ts';
import { startReferenceProcess } from './fixtures/reference-process.ts';
import type { ReferenceProcess } from './fixtures/reference-process.ts';
import { PGLITE_TEMPLATE_DIR } from './fixtures/pglite-template.ts';

let server: ReferenceProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'oversqlite-reference-'));
  server = await startReferenceProcess({
    PGLITE_DIR: dataDir,
    OVERSQLITE_TEST_HOOKS: '1',
    OVERSQLITE_PGLITE_TEMPLATE_DIR: PGLITE_TEMPLATE_DIR,
  });
}, 120_000); // PGlite initdb in the child is CPU-bound

afterAll(async () => {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

async function signIn(user: string): Promise<string> {
  const response = await fetch(`${server.url}/dummy-signin`, { method: 'POST', body: JSON.stringify({ user, password: 'anything' }) });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; expires_in: number; user: string };
  expect(body.expires_in).toBe(300);
  expect(body.user).toBe(user);
  return body.token;
}

// The tests run in order: the SIGTERM test stops the first process, the restart test starts a second.
describe('reference server as a child process on PGlite', () => {
  it('warns that it runs with the development secret and says it is on PGlite', () => {
    expect(server.lines.some((line) => line.includes('WARNING: JWT_SECRET is not set'))).toBe(true);
    expect(server.lines.some((line) => line.includes(`PGlite ${dataDir}`))).toBe(true);
  });

  it('signs in and serves capabilities for the token: protocol v1 with the connect lifecycle', async () => {
    const token = await signIn('alice');
    const response = await fetch(`${server.url}/sync/capabilities`, {
      headers: { Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'device-a' },
    });
    expect(response.status).toBe(200);
    const capabilities = await response.json();
    expect(capabilities.protocol_version).toBe('v1');
    expect(capabilities.features.connect_lifecycle).toBe(true);
    expect(capabilities.registered_tables).toEqual(['business.comments', 'business.projects', 'business.tasks']);
  });

  it('answers 401 authentication_failed for a missing, garbage, expired or forged token', async () => {
    const expired = await signDevToken(DEV_JWT_SECRET, 'alice', -30);
    const forged = await signDevToken('some-other-secret-entirely-000000', 'alice', 300);
    for (const authorization of [null, 'Bearer garbage', `Bearer ${expired}`, `Bearer ${forged}`]) {
      const headers: Record<string, string> = { 'Oversync-Source-ID': 'device-a' };
      if (authorization) headers.Authorization = authorization;
      const response = await fetch(`${server.url}/sync/capabilities`, { headers });
      expect(response.status).toBe(401);
      expect((await response.json()).error).toBe('authentication_failed');
    }
  });

  it('logs one line per request: method, path, status, duration and user', async () => {
    const token = await signIn('bob');
    await fetch(`${server.url}/sync/capabilities?x=1`, { headers: { Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'device-b' } });
    const line = await server.waitForLine(/^GET \/sync\/capabilities 200 [\d.]+ms user=bob$/);
    expect(line).not.toContain('x=1');
    await server.waitForLine(/^POST \/dummy-signin 200 [\d.]+ms user=-$/);
  });

  it('wakes an open watch stream when a bundle commits, then shuts down gracefully on SIGTERM (exit 0)', async () => {
    const token = await signIn('carol');
    const headers = { Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'device-c' };
    const connect = await fetch(`${server.url}/sync/connect`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ has_local_pending_rows: false }),
    });
    expect(connect.status).toBe(200);
    const watch = await fetch(`${server.url}/sync/watch`, { headers });
    expect(watch.status).toBe(200);
    expect(watch.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = watch.body!.getReader();
    const write = await fetch(`${server.url}/test/server-write`, {
      method: 'POST',
      body: JSON.stringify({
        user_id: 'carol',
        changes: [{ table: 'projects', op: 'upsert', row: { id: '99999999-9999-4999-8999-999999999999', name: 'Wake up' } }],
      }),
    });
    expect(write.status).toBe(200);
    let received = '';
    while (!received.includes('event: bundle')) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      received += new TextDecoder().decode(value);
    }
    expect(received).toMatch(/data: \{[^\n]*"bundle_seq":1/);
    const streamEnded = (async () => {
      while (!(await reader.read()).done);
    })();

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await streamEnded;
    expect(server.lines).toContain('SIGTERM: shutting down gracefully…');
    expect(server.lines).toContain('stopped.');
  });

  it('keeps its PGlite data across a restart on the same PGLITE_DIR', async () => {
    expect(server.child.exitCode).toBe(0);
    server = await startReferenceProcess({ PGLITE_DIR: dataDir });
    const token = await signIn('carol');
    const headers = { Authorization: `Bearer ${token}`, 'Oversync-Source-ID': 'device-c2' };
    const connect = await fetch(`${server.url}/sync/connect`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ has_local_pending_rows: false }),
    });
    expect((await connect.json()).resolution).toBe('remote_authoritative');
    const pulled = await (await fetch(`${server.url}/sync/pull?after_bundle_seq=0`, { headers })).json();
    expect(pulled.bundles[0].rows[0].payload.name).toBe('Wake up');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 90_000);
});
