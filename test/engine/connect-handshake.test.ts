/**
 * The connect handshake, data-driven from `protocol-handshake/connect.json`: the table-contract
 * comparison (`contractCases`) and every connect outcome (`cases`), through `engine.attach()`
 * against a scripted server answering with the fixture's capabilities and connect bodies.
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../worker/engine/index.ts';
import { checkTableContract } from '../../worker/engine/lifecycle.ts';
import { loadContract } from '../contracts.ts';
import { openEngine } from './support/engine.ts';
import { scalar } from './support/sqlite.ts';

const fixture = loadContract<{ contractCases: any[]; cases: any[] }>('protocol-handshake/connect.json');
const USERS = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';

describe('table contract (connect.json contractCases)', () => {
  for (const c of fixture.contractCases) {
    it(c.name, () => {
      const result = checkTableContract(c.localSpecs, c.advertised);
      expect(result.kind).toBe(c.expected.kind);
      if (c.expected.kind === 'mismatch') {
        expect(result).toEqual({
          kind: 'mismatch',
          serverOnlyTables: c.expected.serverOnlyTables,
          clientOnlyTables: c.expected.clientOnlyTables,
          syncKeyMismatches: c.expected.syncKeyMismatches,
        });
      }
    });
  }
});

const OUTCOME: Record<string, string> = {
  startedEmpty: 'started_empty',
  seededFromLocal: 'seeded_from_local',
  usedRemoteState: 'used_remote_state',
};

describe('connect outcomes (connect.json cases)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const s = await openEngine(USERS, [{ table: 'users', syncKey: 'id' }]);
      if (c.local.hasLocalPendingRows) s.db.exec("INSERT INTO users(id, name) VALUES ('local-1', 'Ada')");
      s.server.on('GET', '/sync/capabilities', c.capabilities);
      if (c.connect) s.server.on('POST', '/sync/connect', c.connect);
      if (c.connect?.body?.resolution === 'remote_authoritative') {
        s.server.on('POST', '/sync/snapshot-sessions', {
          status: 200,
          body: { snapshot_id: 'snap-1', snapshot_bundle_seq: 3, row_count: 0, byte_count: 0, expires_at: '2099-01-01T00:00:00Z' },
        });
        s.server.on('GET', '/sync/snapshot-sessions/snap-1', {
          status: 200,
          body: { snapshot_id: 'snap-1', snapshot_bundle_seq: 3, rows: [], next_row_ordinal: 0, byte_count: 0, has_more: false },
        });
        s.server.on('DELETE', '/sync/snapshot-sessions/snap-1', { status: 204 });
      }
      const outcome = await s.engine.attach('user-a').then(
        (r) => r,
        (e: unknown) => e,
      );
      expect(s.server.requestsTo('POST', '/sync/connect').length > 0).toBe(c.expected.connectCalled);
      if (c.connect)
        expect(s.server.requestsTo('POST', '/sync/connect')[0]!.body).toEqual({ has_local_pending_rows: c.local.hasLocalPendingRows });
      switch (c.expected.attachKind) {
        case 'unsupportedCapability':
          expect(outcome).toBeInstanceOf(SyncError);
          expect((outcome as SyncError).code).toBe('lifecycle_unsupported');
          expect(scalar(s.db, 'SELECT binding_state FROM _sync_attachment_state')).toBe('anonymous');
          break;
        case 'retryLater':
          expect(outcome).toEqual({ status: 'retry_later', retryAfterSeconds: c.expected.retryAfterSeconds });
          expect(scalar(s.db, 'SELECT binding_state FROM _sync_attachment_state')).toBe('anonymous');
          break;
        case 'connected': {
          expect(outcome).toMatchObject({ status: 'connected', outcome: OUTCOME[c.expected.attachOutcome], userId: 'user-a' });
          expect(scalar(s.db, 'SELECT binding_state FROM _sync_attachment_state')).toBe(c.expected.bindingState);
          expect(scalar(s.db, 'SELECT pending_initialization_id FROM _sync_attachment_state') ?? '').toBe(
            c.expected.pendingInitializationId,
          );
          expect(s.engine.status.userId).toBe('user-a');
          break;
        }
        default:
          throw new Error(`unmapped attachKind ${c.expected.attachKind}`);
      }
    });
  }
});
