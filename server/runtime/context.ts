/** What every runtime operation needs: the database, the bootstrapped catalog and resolved settings. */
import type { CommittedBundleMeta } from '../../protocol/wire.ts';
import type { SqlDatabase } from '../database/types.ts';
import type { Catalog } from './catalog.ts';
import type { RetentionPolicy } from './bundle-finalize.ts';
import type { ResolvedLimits } from './options.ts';
import type { WireDialectOption } from './wire-dialect.ts';
import type { SnapshotBuildTracker } from './snapshot-build-tracker.ts';

/** Shared, immutable runtime context. */
export interface RuntimeContext {
  db: SqlDatabase;
  catalog: Catalog;
  limits: ResolvedLimits;
  retention: RetentionPolicy;
  /** LISTEN/NOTIFY channel of bundle-change events. */
  notifyChannel: string;
  /**
   * Tells every process's watchers (NOTIFY on {@link notifyChannel}) of a bundle of `userId`
   * once its transaction committed (or when a re-sent push finds it committed), without waiting:
   * a transaction of its own, asynchronously committed (a lost hint costs a watcher nothing it
   * cannot catch up on). Sent from the bundle's own transaction, the NOTIFY would hold
   * PostgreSQL's cluster-wide notification lock through that commit's WAL flush, serializing
   * every notifying commit behind it.
   */
  announceCommitted(userId: string, meta: Pick<CommittedBundleMeta, 'bundle_seq' | 'source_id' | 'source_bundle_id'>): void;
  /** Wire dialect option: detected per push session and source (`auto`), or forced. */
  wireDialect: WireDialectOption;
  /** Whether the one-request push extension is offered (server option `oneRequestPush`). */
  oneRequestPush: boolean;
  /** Snapshot builds still running after their create was answered (this instance's). */
  snapshotBuilds: SnapshotBuildTracker;
  /** Reports an unexpected failure of work no request waits for (a snapshot build's background part). */
  onInternalError(err: unknown, where: string): void;
}
