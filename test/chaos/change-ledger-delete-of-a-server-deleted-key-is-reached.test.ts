/**
 * The chaos ledger (support/change-ledger.ts) when the app deletes a row the device knew the
 * server had deleted (a client-wins resolution kept the local row as a pending insert, then the
 * app deleted it: the engine folds the two into nothing). The app's intent, no row, is what the
 * server's delete made; another device inserting the key later is a new row. Seed 735000647
 * (client-wins) reported that delete as lost.
 */
import { expect, it } from 'vitest';
import { ChangeLedger } from './support/change-ledger.ts';
import type { Row } from './support/change-ledger.ts';

const link = (url: string): Row => ({ id: 'L1', folder_id: null, url });
const history = [
  { seq: 5, table: 'links', key: 'L1', op: 2, payload: link('https://x/ 5'), source: 'other' },
  { seq: 8, table: 'links', key: 'L1', op: 3, payload: null, source: 'other' },
  { seq: 12, table: 'links', key: 'L1', op: 1, payload: link('https://x/ 78'), source: 'other' },
];

function deleteLink(ledger: ChangeLedger, serverHadDeleted: boolean): void {
  ledger.noteSource('device1', 'source-1');
  ledger.recordWrite(
    'device1',
    77,
    'links',
    'L1',
    new Map([['links/L1', link('https://x/ 49')]]),
    new Map([['links/L1', null]]),
    serverHadDeleted,
  );
}

it('a delete of a key the device knew deleted on the server is reached by that delete', () => {
  const ledger = new ChangeLedger();
  deleteLink(ledger, true);
  expect(ledger.unaccounted(history, { links: [link('https://x/ 78')!] })).toEqual([]);
});

it('a delete of a live key that never reached the server is still unaccounted', () => {
  const ledger = new ChangeLedger();
  deleteLink(ledger, false);
  const unaccounted = ledger.unaccounted(history, { links: [link('https://x/ 78')!] });
  expect(unaccounted).toHaveLength(1);
  expect(unaccounted[0]).toMatch(/^device1 step 77: links\/L1 deleted/);
});
