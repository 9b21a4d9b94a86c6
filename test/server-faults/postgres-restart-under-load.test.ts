// PostgreSQL itself restarts (`pg_ctlcluster <version> main restart -m fast`) while six devices of
// three users push and pull in loops, retrying as a client does (503 → same request again; a commit
// answered 404 after a 503 → re-create the session, which answers already_committed). Checks: the
// process stays up, the only non-2xx answers are the documented retryable 503s (and that 404 of a
// commit that had gone through), every push is committed exactly once, and a fresh device pulls
// every row. The test waits for pg_isready before and after; it leaves PostgreSQL running.
// Runs only with OVERSQLITE_TEST_PG_RESTART=1 (it disturbs every other user of the cluster).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tagRows } from '../harness/fault-scenario.ts';
import { startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { RawSyncClient } from '../harness/sync-client.ts';
import type { RawResponse } from '../harness/sync-client.ts';
import { TEST_DB_KIND } from '../harness/test-database.ts';

const run = promisify(execFile);
const enabled = TEST_DB_KIND === 'postgres' && process.env.OVERSQLITE_TEST_PG_RESTART === '1';

async function waitForPostgres(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await run('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '1']);
      return;
    } catch {
      // not accepting connections yet (pg_isready itself waited up to 1 s)
    }
  }
  throw new Error('PostgreSQL did not come back');
}

let h: StartedSyncServer;
beforeAll(async () => {
  if (enabled) h = await startSyncServer({ purpose: 'fault_pg_restart' });
});
afterAll(async () => {
  if (enabled) await waitForPostgres();
  await h?.close();
});

/** Every answer seen, for the final check. */
const seen: Array<{ what: string; status: number; error?: string }> = [];

function note(what: string, r: RawResponse): RawResponse {
  seen.push({ what, status: r.status, error: typeof r.body === 'object' && r.body ? r.body.error : undefined });
  return r;
}

/** One request, repeated while it answers 503 (as a client with Retry-After would, without waiting a full second). */
async function retrying(what: string, send: () => Promise<RawResponse>): Promise<RawResponse> {
  for (let attempt = 0; attempt < 400; attempt++) {
    let r: RawResponse;
    try {
      r = note(what, await send());
    } catch (err) {
      throw new Error(`${what}: the server stopped answering (${(err as Error).message})`);
    }
    if (r.status !== 503) return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what}: still 503 after 400 attempts`);
}

/** Pushes bundle `n` of `dev` exactly as a client would, across faults; returns the bundle's row count. */
async function pushOnce(dev: RawSyncClient, n: number, prefix: string): Promise<void> {
  const rows = tagRows(`${prefix}-${n}`, 25);
  for (;;) {
    const created = await retrying('create', () => dev.createPush(n, rows.length));
    expect(created.status).toBe(200);
    if (created.body.status === 'already_committed') return;
    const pushId: string = created.body.push_id;
    let restart = false;
    for (let start = 0; start < rows.length && !restart; start += 10) {
      const c = await retrying('chunk', () => dev.chunk(pushId, start, rows.slice(start, start + 10)));
      if (c.status === 404)
        restart = true; // replaced/expired: start over
      else expect(c.status).toBe(200);
    }
    if (restart) continue;
    const committed = await retrying('commit', () => dev.commit(pushId));
    if (committed.status === 200) return;
    // 404 after a 503: the commit went through but its answer was lost; the re-create says so.
    expect(committed.status).toBe(404);
    expect(committed.body.error).toBe('push_session_not_found');
  }
}

it.skipIf(!enabled)('survives a PostgreSQL restart under load: nothing lost, nothing doubled', { timeout: 120_000 }, async () => {
  await waitForPostgres();
  const version = readdirSync('/etc/postgresql').sort().pop()!;
  const users = ['rita', 'sam', 'tom'];
  const devices = users.flatMap((u) =>
    [`${u}-phone`, `${u}-laptop`].map((s) => ({ user: u, dev: new RawSyncClient(h.baseUrl, h.tokenFor(u), s) })),
  );
  for (const d of devices) expect((await retrying('connect', () => d.dev.connect(false))).status).toBe(200);

  let restarted = false;
  const pushedPerDevice = new Map<string, number>();
  const load = devices.map(async ({ dev }) => {
    let n = 0;
    // Keep going until the restart is over, then a few more rounds on the new server process.
    for (let after = 0; !restarted || after < 3;) {
      n++;
      await pushOnce(dev, n, dev.sourceId!);
      expect((await retrying('pull', () => dev.pull('?after_bundle_seq=0&max_bundles=5'))).status).toBe(200);
      if (restarted) after++;
    }
    pushedPerDevice.set(dev.sourceId!, n);
  });
  // Restart once the load is running (every device committed something).
  const restart = (async () => {
    while (seen.filter((s) => s.what === 'commit' && s.status === 200).length < devices.length) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await run('pg_ctlcluster', [version, 'main', 'restart', '-m', 'fast', '--skip-systemctl-redirect']);
    await waitForPostgres();
    restarted = true;
    console.log(`PostgreSQL ${version} restarted in ${Date.now() - t0} ms`);
  })();
  await Promise.all([...load, restart]);

  const unexpected = seen.filter(
    (s) =>
      !(
        s.status < 300 ||
        (s.status === 503 && s.error === 'database_unavailable') ||
        (s.what === 'commit' && s.error === 'push_session_not_found')
      ),
  );
  expect(unexpected).toEqual([]);
  expect(seen.some((s) => s.status === 503)).toBe(true);

  const bundles = await h.database.query<{ source_id: string; n: number; max: number }>(
    `SELECT source_id, count(*)::int AS n, max(source_bundle_id)::int AS max FROM sync.bundle_log GROUP BY source_id ORDER BY source_id`,
  );
  for (const d of devices) {
    const row = bundles.rows.find((b) => b.source_id === d.dev.sourceId);
    expect(row, d.dev.sourceId!).toEqual({
      source_id: d.dev.sourceId,
      n: pushedPerDevice.get(d.dev.sourceId!),
      max: pushedPerDevice.get(d.dev.sourceId!),
    });
  }
  for (const user of users) {
    const fresh = new RawSyncClient(h.baseUrl, h.tokenFor(user), `${user}-fresh`);
    let keys = 0;
    for (let after = 0, more = true; more;) {
      const page = await retrying('pull', () => fresh.pull(`?after_bundle_seq=${after}&max_bundles=100`));
      for (const b of page.body.bundles) keys += b.rows.length;
      after = page.body.bundles.length ? page.body.bundles[page.body.bundles.length - 1].bundle_seq : after;
      more = page.body.has_more;
    }
    const expected = [`${user}-phone`, `${user}-laptop`].reduce((sum, s) => sum + pushedPerDevice.get(s)! * 25, 0);
    expect(keys).toBe(expected);
    const stored = await h.database.query<{ n: number }>(`SELECT count(*)::int AS n FROM business.tags WHERE _sync_scope_id = $1`, [user]);
    expect(stored.rows[0]!.n).toBe(expected);
  }
});
