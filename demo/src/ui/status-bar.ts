/**
 * The header: brand, connection state, pending-changes badge, last sync, the sync button and the
 * signed-in user. It renders the engine's status (shared by all tabs) plus the browser's own
 * online flag, which changes before the engine hears about it.
 */
import type { SyncStatus } from '../../../src/index.ts';
import { formatAgo, h } from './dom.ts';

/** Actions the header offers. */
export interface StatusBarActions {
  syncNow(): Promise<void>;
  signOut(): Promise<void>;
}

/** What the connection pill says. */
export function connectionLabel(
  status: SyncStatus | null,
  browserOnline: boolean,
): { state: 'online' | 'offline' | 'unreachable' | 'syncing' | 'attention'; text: string } {
  if (!browserOnline || (status !== null && !status.online)) return { state: 'offline', text: 'Offline' };
  if (status === null) return { state: 'syncing', text: 'Starting…' };
  switch (status.phase) {
    case 'auth_required':
      return { state: 'attention', text: 'No token: press Sync now' };
    case 'attaching':
      return { state: 'syncing', text: 'Connecting…' };
    case 'pushing':
    case 'pulling':
      return { state: 'syncing', text: 'Syncing…' };
    case 'hydrating':
    case 'recovering':
      return { state: 'syncing', text: 'Downloading…' };
    case 'detaching':
      return { state: 'syncing', text: 'Signing out…' };
    case 'closed':
      return { state: 'offline', text: 'Closed' };
    case 'idle':
      if (status.userId === null) return { state: 'attention', text: 'Not connected' };
      // The browser has a network but the last sync could not reach the server (or the server
      // failed): saying "Online" here would hide why nothing syncs.
      if (status.lastError !== null && (status.lastError.code === 'network_error' || (status.lastError.status ?? 0) >= 500)) {
        return { state: 'unreachable', text: 'Server unreachable' };
      }
      return { state: 'online', text: 'Online' };
  }
}

/** The header bar. */
export class StatusBar {
  readonly element: HTMLElement;
  private readonly pill = h('span', { class: 'pill', 'data-testid': 'connection' });
  private readonly pending = h('span', { class: 'badge', 'data-testid': 'pending-count' });
  private readonly lastSync = h('span', { class: 'muted small', 'data-testid': 'last-sync' });
  private readonly syncButton: HTMLButtonElement;
  private status: SyncStatus | null = null;
  private browserOnline = navigator.onLine;
  /**
   * The engine's status knows only this session's syncs; the last one is remembered per user
   * (localStorage) so that a reload does not claim "never" seconds after a sync.
   */
  private readonly lastSyncKey: string;
  private lastSyncAt: number | null;

  constructor(user: string, actions: StatusBarActions) {
    this.lastSyncKey = `oversqlite-demo:last-sync:${user}`;
    const remembered = Number(localStorage.getItem(this.lastSyncKey));
    this.lastSyncAt = Number.isFinite(remembered) && remembered > 0 ? remembered : null;
    this.syncButton = h(
      'button',
      {
        class: 'secondary',
        'data-testid': 'sync-button',
        title: 'Push local changes, then pull from the server',
        onclick: () => {
          this.syncButton.disabled = true;
          void actions.syncNow().finally(() => this.render());
        },
      },
      'Sync now',
    );
    const signOut = h('button', { class: 'ghost', 'data-testid': 'sign-out', onclick: () => void actions.signOut() }, 'Sign out');
    this.element = h(
      'header',
      { class: 'topbar' },
      h(
        'div',
        { class: 'brand' },
        h('img', { src: './icon.svg', alt: '', width: 28, height: 28 }),
        h('span', {}, 'oversqlite'),
        h('span', { class: 'muted' }, 'demo'),
      ),
      h('div', { class: 'topbar-status' }, this.pill, this.pending, this.lastSync),
      h('div', { class: 'topbar-actions' }, this.syncButton, h('span', { class: 'user-chip', 'data-testid': 'user' }, user), signOut),
    );
    addEventListener('online', () => this.setBrowserOnline(true));
    addEventListener('offline', () => this.setBrowserOnline(false));
    // Keeps "synced 5 s ago" honest without a status change.
    setInterval(() => this.renderLastSync(), 5000);
    this.render();
  }

  /** New engine status. */
  update(status: SyncStatus | null): void {
    this.status = status;
    this.render();
  }

  private setBrowserOnline(online: boolean): void {
    this.browserOnline = online;
    this.render();
  }

  private render(): void {
    const { state, text } = connectionLabel(this.status, this.browserOnline);
    this.pill.className = `pill pill-${state}`;
    this.pill.dataset.state = state;
    this.pill.replaceChildren(h('span', { class: 'dot' }), text);
    const count = this.status?.pendingCount ?? 0;
    this.pending.dataset.count = String(count);
    this.pending.className = count > 0 ? 'badge badge-pending' : 'badge badge-clear';
    this.pending.textContent = count > 0 ? `${count} pending` : 'All synced';
    const busy = this.status !== null && this.status.phase !== 'idle' && this.status.phase !== 'auth_required';
    this.syncButton.disabled = busy || state === 'offline';
    this.syncButton.textContent = busy ? 'Syncing…' : 'Sync now';
    this.renderLastSync();
  }

  private renderLastSync(): void {
    const current = this.status?.lastSyncAt ?? null;
    if (current !== null && current !== this.lastSyncAt) {
      this.lastSyncAt = current;
      localStorage.setItem(this.lastSyncKey, String(current));
    }
    this.lastSync.textContent = this.lastSyncAt === null ? 'not synced yet' : `synced ${formatAgo(this.lastSyncAt)}`;
  }
}
