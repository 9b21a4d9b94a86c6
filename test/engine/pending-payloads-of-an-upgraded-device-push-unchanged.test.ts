/**
 * Devices made by earlier releases (the metadata dumps in test/fixtures/client-metadata) hold
 * pending changes with payloads captured at write time; this release captures none and reads the
 * live row at the freeze (worker/engine/pending-payload.ts). No metadata layout step is needed:
 * a stored payload wins over the live row, so such a device upgrades and pushes its pending
 * changes exactly as captured (same rows, ops, base versions and payloads). An app edit made after
 * the upgrade replaces the stored payload with the live row, like any capture now.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CLIENT_LAYOUT_TABLES } from './support/client-layout.ts';
import { capabilitiesBody, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';
import { rows } from './support/sqlite.ts';

const FIXTURES = new URL('../fixtures/client-metadata/', import.meta.url);

async function upgradedDevice(version: number) {
  const s = await openEngine(readFileSync(new URL(`v${version}.sql`, FIXTURES), 'utf8'), CLIENT_LAYOUT_TABLES);
  const server = new PushResponder();
  server.install(s.server);
  s.server.always('GET', '/sync/capabilities', { status: 200, body: capabilitiesBody('main', CLIENT_LAYOUT_TABLES) });
  // The server's versions of the rows the dumped device synced (its _sync_row_state).
  server.versions.set('users:{"id":"a"}', { version: 5, deleted: false, payload: { id: 'a', name: 'A' } });
  server.versions.set('users:{"id":"b"}', { version: 6, deleted: false, payload: { id: 'b', name: 'B' } });
  return { s, server };
}

const pushedRequestRows = (s: Awaited<ReturnType<typeof openEngine>>) =>
  s.server.requests
    .filter((r) => r.method === 'POST' && r.path.startsWith('/sync/push-sessions'))
    .flatMap((r) => ((r.body as { rows?: unknown[] } | null)?.rows ?? []) as unknown[]);

for (const version of [1, 2]) {
  it(`a v${version} device pushes its captured payloads unchanged`, async () => {
    const { s, server } = await upgradedDevice(version);
    try {
      // The captured payloads are still stored after the upgrade.
      expect(rows(s.db, 'SELECT key_json, op, base_row_version, payload FROM _sync_dirty_rows ORDER BY dirty_ordinal')).toEqual([
        { key_json: '{"id":"a"}', op: 'UPDATE', base_row_version: 5, payload: '{"id":"a","name":"A edited"}' },
        { key_json: '{"id":"c"}', op: 'INSERT', base_row_version: 0, payload: '{"id":"c","name":"C"}' },
      ]);
      expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 2, conflicts: 0 });
      expect(pushedRequestRows(s)).toEqual([
        { schema: 'main', table: 'users', key: { id: 'a' }, op: 'UPDATE', base_row_version: 5, payload: { id: 'a', name: 'A edited' } },
        { schema: 'main', table: 'users', key: { id: 'c' }, op: 'INSERT', base_row_version: 0, payload: { id: 'c', name: 'C' } },
      ]);
      expect(server.committed).toHaveLength(1);
      expect(s.engine.status.pendingCount).toBe(0);
    } finally {
      await s.engine.close();
    }
  });

  it(`a v${version} device's pending row edited after the upgrade pushes the edit`, async () => {
    const { s } = await upgradedDevice(version);
    try {
      s.db.exec("UPDATE users SET name = 'C edited' WHERE id = 'c'");
      expect(rows(s.db, 'SELECT op, payload FROM _sync_dirty_rows WHERE key_json = \'{"id":"c"}\'')).toEqual([
        { op: 'INSERT', payload: null },
      ]);
      expect(await s.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 2, conflicts: 0 });
      expect(pushedRequestRows(s)).toEqual([
        { schema: 'main', table: 'users', key: { id: 'a' }, op: 'UPDATE', base_row_version: 5, payload: { id: 'a', name: 'A edited' } },
        { schema: 'main', table: 'users', key: { id: 'c' }, op: 'INSERT', base_row_version: 0, payload: { id: 'c', name: 'C edited' } },
      ]);
    } finally {
      await s.engine.close();
    }
  });
}
