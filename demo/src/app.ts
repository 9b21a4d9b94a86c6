/**
 * The signed-in app: composes the header, the three columns and the inspector over one open
 * database, relays the engine's status to them, turns conflict, lost-row and error events into notices,
 * and attaches the signed-in user (which also resumes offline when the device knows the user).
 */
import type { ConflictEventDetail, Database, OversqliteError, SyncStatus } from '../../src/index.ts';
import { gatherLostRows, lostRowsNotice } from './lost-rows.ts';
import { DemoStore } from './store.ts';
import { countOf, h } from './ui/dom.ts';
import { Inspector } from './ui/inspector.ts';
import { Notices } from './ui/notices.ts';
import { ProgressBar } from './ui/progress-bar.ts';
import { ProjectsPanel } from './ui/projects-panel.ts';
import { StatusBar } from './ui/status-bar.ts';
import { TaskDetail } from './ui/task-detail.ts';
import { TasksPanel } from './ui/tasks-panel.ts';

/** What the app needs from main.ts. */
export interface AppHooks {
  /** Sign-out finished (the user is detached and forgotten). */
  signedOut(): void;
}

/** What a conflict notice says happened (the resolver is src/conflict-policy.ts). */
export function describeResolution(conflict: ConflictEventDetail): string {
  if (conflict.resolution === 'server' && conflict.serverDeleted) return 'another device deleted it, so the deletion was kept';
  if (conflict.resolution === 'server' && conflict.localOp === 'DELETE')
    return 'you deleted it, but another device had edited it; the edited version was kept';
  switch (conflict.resolution) {
    case 'server':
      return 'the other device’s version was kept (it was edited later)';
    case 'local':
      return 'your version was kept (it was edited later) and pushed';
    case 'merged':
      return 'the two versions were merged';
    case 'delete':
      return 'it was deleted';
  }
}

/** Mounts the app for `user` into `root`. */
export function mountApp(root: HTMLElement, db: Database, user: string, hooks: AppHooks): void {
  const store = new DemoStore(db);
  const notices = new Notices();
  const progress = new ProgressBar();

  /** Runs a sync operation from a button; failures become notices (they are also in the inspector). */
  const run = async (label: string, operation: () => Promise<unknown>): Promise<void> => {
    try {
      await operation();
    } catch (error) {
      notices.show('error', `${label} failed`, (error as OversqliteError).message ?? String(error));
    }
  };
  const inspector = new Inspector(db, run, () => store.addSampleProject(500));
  const statusBar = new StatusBar(user, {
    syncNow: () => run('Sync', () => db.sync.sync()),
    signOut: async () => {
      const result = await db.sync.detach().catch((error: unknown) => {
        notices.show('error', 'Sign-out failed', (error as Error).message);
        return null;
      });
      if (result === null) return;
      if (result.outcome === 'blocked_unsynced_data') {
        const changes = countOf(result.pendingCount, 'local change');
        notices.show(
          'info',
          'Not signed out',
          `${changes} ${result.pendingCount === 1 ? 'is' : 'are'} not on the server yet. Sync first (go online), then sign out.`,
          {
            // A shared device, or changes the user gave up on: signing out anyway drops them, after asking.
            label: 'Discard and sign out',
            run: () => {
              if (!confirm(`Sign out and discard ${changes}? They are not on the server and cannot be recovered.`)) return;
              void db.sync
                .detach({ force: true })
                .then(() => hooks.signedOut())
                .catch((error: unknown) => notices.show('error', 'Sign-out failed', (error as Error).message));
            },
          },
        );
        return;
      }
      hooks.signedOut();
    },
  });
  const detail = new TaskDetail(store);
  const tasks = new TasksPanel(store, (taskId) => detail.show(taskId));
  const projects = new ProjectsPanel(store, (project) => tasks.showProject(project));

  const render = (status: SyncStatus | null): void => {
    statusBar.update(status);
    progress.update(status);
    inspector.update(status);
  };
  db.sync.status.subscribe(render);
  render(db.sync.status.get());

  db.on('conflict', (conflict) => {
    void store.describe(conflict.table, conflict.key).then((label) => {
      const what = `${conflict.table.replace(/s$/, '')}${label === null ? '' : ` “${label}”`}`;
      notices.show('conflict', `Conflict on ${what}`, `Both devices changed it: ${describeResolution(conflict)}.`);
      inspector.record(
        'conflict',
        `${conflict.table} ${conflict.key}: ${conflict.resolution} kept (server version ${conflict.serverVersion})`,
      );
    });
  });
  db.on('error', (error) => inspector.record('error', `${error.code}: ${error.message}`));
  // Something the user wrote that sync had to remove is gone from the lists: only a notice can say
  // so. Rows without a pending change went as any deletion from another device does: no notice.
  const lostChanges = gatherLostRows((burst) => {
    const { title, detail } = lostRowsNotice(burst);
    notices.show('conflict', title, detail);
  });
  db.on('lost', (lost) => {
    inspector.record(
      'conflict',
      `${lost.table} ${lost.key}: removed (${lost.reason}${lost.localOp === null ? '' : `, pending ${lost.localOp}`})`,
    );
    if (lost.localOp !== null) lostChanges(lost);
  });

  root.replaceChildren(
    statusBar.element,
    progress.element,
    h('main', { class: 'columns' }, projects.element, tasks.element, detail.element),
    inspector.element,
    notices.element,
  );

  // Attach (sign in) the user to the local database: the first time this connects and brings the
  // server's data down (hydrate, with progress); later it resumes, offline too.
  void run('Connecting', async () => {
    const result = await db.sync.attach(user);
    inspector.setAttachOutcome(result.status === 'connected' ? result.outcome : `retry in ${result.retryAfterSeconds} s`);
    if (result.status === 'retry_later') {
      notices.show('info', 'Server busy', `The server asked to retry in ${result.retryAfterSeconds} s; automatic sync will connect.`);
    }
  });
}
