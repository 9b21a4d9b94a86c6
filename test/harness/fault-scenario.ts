/**
 * Shared pieces of the database-fault suite (`test/server-faults/`): a harness server whose
 * database has a {@link StageGate} in front, sample rows, and the one answer a request that lost
 * its connection may get.
 */
import { expect } from 'vitest';
import type { PushRow } from '../../protocol/wire.ts';
import { StageGate } from './stage-gate.ts';
import { startSyncServer } from './sync-server.ts';
import type { StartedSyncServer } from './sync-server.ts';
import type { RawResponse } from './sync-client.ts';

/** A harness server plus the gate in front of its database. */
export interface FaultServer {
  h: StartedSyncServer;
  gate: StageGate;
}

/** Starts a harness server (sample schema, real PostgreSQL) with a stage gate. */
export async function startFaultServer(purpose: string): Promise<FaultServer> {
  const gate = new StageGate();
  const h = await startSyncServer({ purpose, wrapDatabase: (db) => gate.wrap(db) });
  return { h, gate };
}

/** `count` INSERT rows of `business.tags` named `<prefix>-<i>`. */
export function tagRows(prefix: string, count: number): PushRow[] {
  return Array.from({ length: count }, (_, i) => ({
    schema: 'business',
    table: 'tags',
    key: { name: `${prefix}-${i}` },
    op: 'INSERT' as const,
    base_row_version: 0,
    payload: { name: `${prefix}-${i}`, color: 'blue', weight: String(i) },
  }));
}

/** The documented answer to a request whose database connection was lost: retryable, no SQL text. */
export function expectDatabaseUnavailable(res: RawResponse): void {
  expect(res.status).toBe(503);
  expect(res.body.error).toBe('database_unavailable');
  expect(res.headers.get('retry-after')).toBe('1');
  expect(res.body.message).not.toMatch(/terminat|SQL|relation|constraint|sync\.|\bat \w+ \(/i);
}
