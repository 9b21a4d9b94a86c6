/**
 * The conflict extension point: what a resolver is given, what it may decide, and the named
 * strategies. The strategy names the engine, the worker and `openDatabase` accept are derived from
 * `CONFLICT_STRATEGIES`, so a new named strategy is one entry there.
 */
import type { WireOp } from '../../protocol/index.ts';

/** Input of a custom conflict resolver. Rows are plain objects in local form (see `docs/engine.md`). */
export interface ConflictContext {
  table: string;
  /** The sync key value (string; BLOB UUID keys as dashed UUID text). */
  key: string;
  /** The local intent that the server rejected. */
  localOp: WireOp;
  /** The local after-image (null for DELETE). Integers are decimal strings, BLOBs base64. */
  localRow: Record<string, unknown> | null;
  /** The server's current row (null when deleted or missing), wire form. */
  serverRow: Record<string, unknown> | null;
  baseVersion: number;
  serverVersion: number;
  serverDeleted: boolean;
}

/** What a resolver decides: keep the server row, keep the local intent, write a merged row, or delete. */
export type ConflictResolution = { keep: 'server' } | { keep: 'local' } | { row: Record<string, unknown> } | { delete: true };

/** A custom conflict resolver. May be async (it can ask the user through the main thread). */
export type ConflictResolver = (ctx: ConflictContext) => ConflictResolution | Promise<ConflictResolution>;

/** The named conflict strategies: each decides every conflict the same way. */
export const CONFLICT_STRATEGIES = {
  /** The server's row wins; the local change to that key is dropped. The default. */
  'server-wins': (): ConflictResolution => ({ keep: 'server' }),
  /** The local change wins: it is pushed again on top of the server's version. */
  'client-wins': (): ConflictResolution => ({ keep: 'local' }),
} as const satisfies Record<string, ConflictResolver>;

/** A named conflict strategy (a key of `CONFLICT_STRATEGIES`). */
export type ConflictStrategy = keyof typeof CONFLICT_STRATEGIES;

/** The default strategy. */
export const DEFAULT_CONFLICT_STRATEGY: ConflictStrategy = 'server-wins';
