/**
 * The download bar shown while the engine rebuilds local tables from a server snapshot
 * (hydrate: first sign-in on a device, or a rebuild), with rows done out of the total.
 */
import type { SyncStatus } from '../../../src/index.ts';
import { h } from './dom.ts';

/** The hydrate progress bar (hidden when nothing long-running is under way). */
export class ProgressBar {
  private readonly fill = h('div', { class: 'progress-fill' });
  private readonly label = h('span', { class: 'progress-label' });
  readonly element = h(
    'div',
    { class: 'progress', hidden: true, 'data-testid': 'hydrate-progress', role: 'progressbar' },
    h('div', { class: 'progress-track' }, this.fill),
    this.label,
  );

  /** New engine status. */
  update(status: SyncStatus | null): void {
    const downloading = status !== null && (status.phase === 'hydrating' || status.phase === 'recovering');
    const progress = status?.progress ?? null;
    this.element.hidden = !downloading && progress === null;
    if (this.element.hidden) return;
    const what = status?.phase === 'recovering' ? 'Recovering from the server' : 'Downloading your data';
    const known = progress !== null && progress.total > 0;
    this.fill.classList.toggle('indeterminate', !known);
    if (progress !== null && known) {
      const percent = Math.min(100, Math.round((progress.done / progress.total) * 100));
      this.fill.style.width = `${percent}%`;
      this.element.setAttribute('aria-valuenow', String(percent));
      this.label.textContent = `${what}… ${progress.done} / ${progress.total}`;
    } else {
      this.fill.style.width = '100%';
      this.element.removeAttribute('aria-valuenow');
      this.label.textContent = `${what}…`;
    }
  }
}
