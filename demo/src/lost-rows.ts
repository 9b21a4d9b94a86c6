/**
 * What to tell the user when sync removed something they wrote (the engine's `lost` event): the
 * row is gone from the lists, so only a notice can say what went and why. Rows removed together
 * (a task with its comments) arrive as separate events within a moment; they are told as one.
 */
import type { RowLostDetail } from '../../src/index.ts';

/** The singular noun and the column that names a row of each demo table. */
const TABLES: Record<string, { noun: string; label: string; parent: string }> = {
  projects: { noun: 'project', label: 'name', parent: '' },
  tasks: { noun: 'task', label: 'title', parent: 'project' },
  comments: { noun: 'comment', label: 'body', parent: 'task' },
};

/** “Task “Plant bulbs”” for a lost row (its label read from the row as it was). */
export function lostRowLabel(lost: RowLostDetail): string {
  const table = TABLES[lost.table];
  const label = table === undefined ? undefined : lost.row?.[table.label];
  const noun = table?.noun ?? lost.table;
  return typeof label === 'string' && label !== '' ? `${noun} “${label.length > 40 ? `${label.slice(0, 39)}…` : label}”` : noun;
}

/** Why the first row of a burst went, as a sentence. */
export function lostReason(lost: RowLostDetail): string {
  const parent = TABLES[lost.table]?.parent;
  const its = parent ? `its ${parent}` : 'what it belonged to';
  switch (lost.reason) {
    case 'parent_deleted_remotely':
      return `${capitalize(its)} was deleted on another device.`;
    case 'parent_deleted_locally':
      return `${capitalize(its)} was deleted on this device.`;
    case 'cascade':
      return `It went with ${its}, deleted on another device.`;
    case 'delete_refused':
      return 'The server refused the deletion; the server’s version is shown again.';
    case 'unsyncable':
      return 'The server could not accept this change, so it was set aside.';
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Gathers `lost` events arriving within `windowMs` of the first and hands them over as one burst
 * (a task and its comments, removed by one cascade, make one notice).
 */
export function gatherLostRows(show: (burst: RowLostDetail[]) => void, windowMs = 100): (lost: RowLostDetail) => void {
  let burst: RowLostDetail[] = [];
  return (lost) => {
    burst.push(lost);
    if (burst.length > 1) return;
    setTimeout(() => {
      const gathered = burst;
      burst = [];
      show(gathered);
    }, windowMs);
  };
}

/**
 * The notice for one burst: a title naming what went, and why. It names the topmost row (a task
 * before its comments), whose reason explains the rest.
 */
export function lostRowsNotice(burst: readonly RowLostDetail[]): { title: string; detail: string } {
  const order = Object.keys(TABLES);
  const rank = (lost: RowLostDetail): number => (order.includes(lost.table) ? order.indexOf(lost.table) : order.length);
  const [first] = [...burst].sort((x, y) => rank(x) - rank(y));
  if (first === undefined) throw new Error('lostRowsNotice: empty burst');
  const more = burst.length === 1 ? '' : ` and ${burst.length - 1} more`;
  return { title: `${capitalize(lostRowLabel(first))}${more} removed`, detail: lostReason(first) };
}
