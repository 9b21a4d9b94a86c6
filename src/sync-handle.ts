/**
 * `db.sync`: the sync status as an observable value and the sync operations. Operations run on
 * the leader tab's worker, where the engine lives; the status is relayed to every tab, so all
 * tabs show the same one. Detaching (signing out) from any tab detaches the one engine, so every
 * tab is signed out.
 */
import type {
  AttachResult,
  DetachOptions,
  DetachResult,
  PullResult,
  PushResult,
  SyncEvent,
  SyncResult,
  SyncStatus,
  SyncThenDetachResult,
} from '../worker/engine/types.ts';
import { OversqliteError } from '../worker/database/errors.ts';
import type { Outcome } from '../worker/database/types.ts';
import type { SyncMethod } from './database-request.ts';
import { rememberAttachedUser } from './device-state.ts';
import { ValueCell } from './observable-value.ts';
import type { ObservableValue } from './observable-value.ts';
import { unwrapOutcome } from './outcome.ts';

/** Runs a sync method on the leader. */
type SyncCaller = (method: SyncMethod, args: readonly unknown[]) => Promise<Outcome<unknown>>;

/** Sync status and operations of one database. */
export class SyncHandle {
  private readonly cell = new ValueCell<SyncStatus | null>(null);

  /** @internal */
  constructor(
    private readonly databaseName: string,
    private readonly caller: SyncCaller | undefined,
  ) {}

  /** Whether the database was opened with a `sync` configuration. */
  get configured(): boolean {
    return this.caller !== undefined;
  }

  /** The sync status (null until the engine reported one, and always null without sync). */
  get status(): ObservableValue<SyncStatus | null> {
    return this.cell;
  }

  /** Attaches (signs in) `userId`: connects to the server and brings local data in line. */
  async attach(userId: string): Promise<AttachResult> {
    const result = await this.run<AttachResult>('attach', [userId]);
    if (result.status === 'connected') await rememberAttachedUser(this.databaseName, result.userId);
    return result;
  }

  /**
   * Detaches (signs out) in every tab. Refuses (`blocked_unsynced_data`) while local changes are
   * not yet pushed, unless `force`, which discards them (`discardedChanges`).
   */
  async detach(options: DetachOptions = {}): Promise<DetachResult> {
    const result = await this.run<DetachResult>('detach', [options]);
    if (result.outcome === 'detached') await rememberAttachedUser(this.databaseName, null);
    return result;
  }

  /**
   * Signs out after sending everything (in every tab): syncs, then detaches; when writes made
   * during the sync block the detach, syncs again (at most 3 rounds, while the pending count
   * falls). Not detached is a result (`detach.outcome === 'blocked_unsynced_data'`, still
   * attached); a failed sync throws and leaves the device attached with its changes.
   */
  async syncThenDetach(): Promise<SyncThenDetachResult> {
    const result = await this.run<SyncThenDetachResult>('syncThenDetach', []);
    if (result.detach.outcome === 'detached') await rememberAttachedUser(this.databaseName, null);
    return result;
  }

  /** Pushes pending changes, then pulls to the server's stable point. */
  sync(): Promise<SyncResult> {
    return this.run('sync', []);
  }

  /** Pushes pending local changes only. */
  pushPending(): Promise<PushResult> {
    return this.run('pushPending', []);
  }

  /** Pulls remote changes only. */
  pullToStable(): Promise<PullResult> {
    return this.run('pullToStable', []);
  }

  /** Rebuilds local synced tables from a server snapshot (progress in the status). */
  hydrate(): Promise<PullResult> {
    return this.run('hydrate', []);
  }

  /** @internal fetches the status once (after open and after a leader change). */
  async refreshStatus(): Promise<void> {
    if (this.caller === undefined) return;
    const outcome = await this.caller('status', []);
    if (outcome.ok) this.cell.set(outcome.value as SyncStatus);
  }

  /** @internal an engine event reached this tab. */
  handleEvent(event: SyncEvent): void {
    if (event.type === 'status') this.cell.set(event.status);
  }

  private async run<T>(method: SyncMethod, args: readonly unknown[]): Promise<T> {
    if (this.caller === undefined) {
      throw new OversqliteError(
        'sync_not_configured',
        'This database was opened without `sync`; pass a sync configuration to openDatabase.',
      );
    }
    return unwrapOutcome(await this.caller(method, args)) as T;
  }
}
