/**
 * Tiny DOM helpers: an element factory and a keyed list update that leaves rows alone when their
 * data did not change, and never replaces a row the user is typing in (live queries re-run on
 * every commit, including the user's own keystroke saves and other devices' edits).
 */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | undefined | null>;

/** Creates an element: `h('button', { class: 'primary', onclick: fn }, 'Save')`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
    else if (name === 'checked' && 'checked' in element) (element as HTMLInputElement).checked = Boolean(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces the children of `parent`. */
export function setChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * Makes `container`'s children the rendered `items`, in order. A row is re-rendered only when
 * its `signature` changed, and kept as it is while the user types in it.
 */
export function updateKeyedList<T>(
  container: Element,
  items: readonly T[],
  keyOf: (item: T) => string,
  signature: (item: T) => string,
  render: (item: T) => HTMLElement,
): void {
  const existing = new Map<string, HTMLElement>();
  for (const child of Array.from(container.children)) {
    if (child instanceof HTMLElement && child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  const wanted: HTMLElement[] = [];
  for (const item of items) {
    const key = keyOf(item);
    const sig = signature(item);
    let row = existing.get(key);
    const focused = row !== undefined && isTypingIn(row);
    if (row === undefined || (row.dataset.sig !== sig && !focused)) {
      row = render(item);
      row.dataset.key = key;
      row.dataset.sig = sig;
    }
    wanted.push(row);
  }
  // Move/insert in order without touching rows already in place (keeps focus and scroll).
  wanted.forEach((row, index) => {
    if (container.children[index] !== row) container.insertBefore(row, container.children[index] ?? null);
  });
  while (container.children.length > wanted.length) container.lastElementChild!.remove();
}

/** Whether the user is typing in a text field inside `element` (a focused checkbox does not count). */
function isTypingIn(element: Element): boolean {
  const active = document.activeElement;
  if (active === null || !element.contains(active)) return false;
  if (active instanceof HTMLTextAreaElement) return true;
  return active instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(active.type);
}

/** Formats an RFC 3339 (or PostgreSQL text) timestamp for people; '' for null. `dateOnly` drops the time. */
export function formatWhen(value: string | null | undefined, dateOnly = false): string {
  if (!value) return '';
  const date = new Date(value.includes('T') ? value : value.replace(' ', 'T'));
  if (Number.isNaN(date.getTime())) return value;
  return dateOnly
    ? date.toLocaleDateString(undefined, { dateStyle: 'medium' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "1 task", "2 tasks": a count with its noun, pluralised with -s. */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Whether a due timestamp lies before today (local time): overdue unless done. */
export function isOverdue(dueAt: string | null, now = new Date()): boolean {
  if (dueAt === null) return false;
  const due = new Date(dueAt);
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return !Number.isNaN(due.getTime()) && due.getTime() < startOfToday.getTime();
}

/** "just now", "5 s ago", "3 min ago"… for an epoch-ms time. */
export function formatAgo(epochMs: number | null, now = Date.now()): string {
  if (epochMs === null) return 'never';
  const seconds = Math.max(0, Math.round((now - epochMs) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return new Date(epochMs).toLocaleTimeString();
}
