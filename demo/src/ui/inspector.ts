/**
 * The inspector: what the sync engine knows right now (pending changes, checkpoint, source id,
 * phase, this tab's role, storage) and the last errors and conflicts, with the lower-level
 * operations (push only, pull only, rebuild from a snapshot) as buttons.
 */
import type { Database, StorageStatus, SyncStatus } from '../../../src/index.ts';
import { formatAgo, h, setChildren } from './dom.ts';

/** One line of the inspector's history. */
interface LogEntry {
  readonly at: number;
  readonly kind: 'error' | 'conflict';
  readonly text: string;
}

const MAX_LOG = 6;

/** The inspector panel. */
export class Inspector {
  readonly element: HTMLDetailsElement;
  private readonly facts = h('dl', { class: 'facts', 'data-testid': 'inspector-facts' });
  private readonly log = h('ul', { class: 'log', 'data-testid': 'inspector-log' });
  private readonly entries: LogEntry[] = [];
  private status: SyncStatus | null = null;
  private storage: StorageStatus | null = null;
  private attachOutcome = '–';

  constructor(
    private readonly db: Database,
    run: (label: string, operation: () => Promise<unknown>) => Promise<void>,
    addSampleData: () => Promise<unknown>,
  ) {
    const button = (label: string, testId: string, operation: () => Promise<unknown>): HTMLButtonElement =>
      h('button', { class: 'secondary small', 'data-testid': testId, onclick: () => void run(label, operation) }, label);
    this.element = h(
      'details',
      { class: 'card inspector', 'data-testid': 'inspector', open: true },
      h('summary', {}, 'Inspector'),
      this.facts,
      h(
        'div',
        { class: 'row-actions' },
        button('Push', 'inspector-push', () => db.sync.pushPending()),
        button('Pull', 'inspector-pull', () => db.sync.pullToStable()),
        button('Rebuild from server', 'inspector-hydrate', () => db.sync.hydrate()),
        button('Add 500 sample tasks', 'inspector-sample', addSampleData),
      ),
      h('h3', {}, 'Recent errors and conflicts'),
      this.log,
    );
    void db.storage().then((storage) => {
      this.storage = storage;
      this.render();
    });
    this.render();
  }

  /** New engine status; a new `lastError` is added to the history. */
  update(status: SyncStatus | null): void {
    const previous = this.status?.lastError ?? null;
    this.status = status;
    const error = status?.lastError ?? null;
    if (error !== null && (previous === null || previous.code !== error.code || previous.message !== error.message)) {
      this.record('error', `${error.code}${error.status !== undefined ? ` (HTTP ${error.status})` : ''}: ${error.message}`);
    }
    this.render();
  }

  /** How this tab's attach went (`resumed`, `used_remote_state`, …). */
  setAttachOutcome(outcome: string): void {
    this.attachOutcome = outcome;
    this.render();
  }

  /** Adds a line to the history. */
  record(kind: LogEntry['kind'], text: string): void {
    if (this.entries[0]?.text === text) return;
    this.entries.unshift({ at: Date.now(), kind, text });
    this.entries.length = Math.min(this.entries.length, MAX_LOG);
    this.render();
  }

  private render(): void {
    const s = this.status;
    const fact = (label: string, value: string, testId: string): HTMLElement =>
      h('div', { class: 'fact' }, h('dt', {}, label), h('dd', { 'data-testid': testId }, value));
    const storage = this.storage;
    setChildren(
      this.facts,
      fact('Pending changes', String(s?.pendingCount ?? '–'), 'inspector-pending'),
      fact('Checkpoint', String(s?.checkpoint ?? '–'), 'inspector-checkpoint'),
      fact('Source id', s?.sourceId || '–', 'inspector-source'),
      fact('User', s?.userId ?? 'not attached', 'inspector-user'),
      fact('Phase', s === null ? '–' : s.phase, 'inspector-phase'),
      fact('Last sync', s?.lastSyncAt == null ? 'not yet in this session' : formatAgo(s.lastSyncAt), 'inspector-last-sync'),
      fact('Attach', this.attachOutcome, 'inspector-attach'),
      fact('This tab', this.db.role, 'inspector-role'),
      fact('Storage', storage === null ? '–' : `${storage.kind}${storage.persisted ? ', persistent' : ''}`, 'inspector-storage'),
    );
    if (this.entries.length === 0) {
      setChildren(this.log, h('li', { class: 'empty' }, 'None so far.'));
      return;
    }
    setChildren(
      this.log,
      ...this.entries.map((e) =>
        h('li', { class: `log-${e.kind}` }, h('span', { class: 'muted small' }, new Date(e.at).toLocaleTimeString()), ' ', e.text),
      ),
    );
  }
}
