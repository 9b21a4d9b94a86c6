/**
 * What every engine step needs: the database, the validated table model, the transport, the
 * clock, the options, and a way to report progress. One object, passed explicitly.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { CapabilitiesResponse } from '../../protocol/index.ts';
import { SyncError } from './errors.ts';
import type { SchemaModel, TableModel } from './table-config.ts';
import type { SyncTransport } from './transport.ts';
import type { ConflictEventDetail, EngineClock, RowLostDetail, SyncEngineOptions, SyncPhase } from './types.ts';

/** Shared state of one engine instance. */
export interface EngineContext {
  db: Database;
  /** Remote PostgreSQL schema (`schema_name` in the metadata tables, `schema` on the wire). */
  schema: string;
  model: SchemaModel;
  transport: SyncTransport;
  clock: EngineClock;
  options: SyncEngineOptions;
  /** Capabilities fetched this session (null until the first remote step). */
  capabilities: CapabilitiesResponse | null;
  /** Reports the phase and progress of long steps. */
  setPhase(phase: SyncPhase, progress?: { done: number; total: number } | null): void;
  /** Reports app tables whose rows a sync step changed. */
  applied(tables: Iterable<string>): void;
  /** Reports a resolved conflict. */
  conflict(detail: ConflictEventDetail): void;
  /** Reports rows or pending changes sync removed; call after their transaction committed. */
  rowsLost(details: readonly RowLostDetail[]): void;
  /** Generates a fresh source id (UUIDv4). */
  newSourceId(): string;
}

/** `wanted`, at least 1 and at most the server's `max` when it sets one (absent or 0: no limit). */
export function withinServerLimit(wanted: number, max: number | undefined): number {
  return Math.max(1, Math.min(wanted, max || Infinity));
}

/** The model of a table named on the wire; unknown tables are a bad server answer. */
export function tableOf(ctx: EngineContext, schema: unknown, table: unknown, where: string): TableModel {
  if (schema !== ctx.schema) throw badTable(where, `schema ${JSON.stringify(schema)} is not ${ctx.schema}`);
  const t = typeof table === 'string' ? ctx.model.byName.get(table) : undefined;
  if (!t) throw badTable(where, `table ${JSON.stringify(table)} is not synced`);
  return t;
}

function badTable(where: string, why: string): SyncError {
  return new SyncError('bad_server_response', `${where}: ${why}`);
}
