/**
 * Notices in the corner: conflict resolutions and sync errors, newest on top, a few at a time.
 * Conflict notices stay until dismissed (they tell the user which version won); others fade.
 */
import { h } from './dom.ts';

/** Kind of a notice (drives its colour). */
export type NoticeKind = 'conflict' | 'error' | 'info';

/** A button on a notice. */
export interface NoticeAction {
  readonly label: string;
  run(): void;
}

const MAX_VISIBLE = 4;
const FADE_AFTER_MS = 8000;

/** The notice stack. */
export class Notices {
  readonly element = h('div', { class: 'notices', 'data-testid': 'notices', role: 'status' });

  /** Shows a notice, with a button for `action` when given (the notice closes when it is pressed). */
  show(kind: NoticeKind, title: string, detail: string, action?: NoticeAction): void {
    const button =
      action === undefined
        ? null
        : h(
            'button',
            {
              class: 'secondary small',
              'data-testid': 'notice-action',
              onclick: () => {
                notice.remove();
                action.run();
              },
            },
            action.label,
          );
    const notice = h(
      'div',
      { class: `notice notice-${kind}`, 'data-testid': `notice-${kind}` },
      h('div', { class: 'notice-body' }, h('strong', {}, title), h('p', {}, detail), ...(button === null ? [] : [button])),
      h('button', { class: 'icon-button', 'aria-label': 'Dismiss', onclick: () => notice.remove() }, '×'),
    );
    this.element.prepend(notice);
    while (this.element.children.length > MAX_VISIBLE) this.element.lastElementChild!.remove();
    if (kind !== 'conflict') setTimeout(() => notice.remove(), FADE_AFTER_MS);
  }
}
