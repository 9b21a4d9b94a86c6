/**
 * The chaos ledger (support/change-ledger.ts) when a pulled parent delete nulls a SET NULL column
 * of a pending row and the app then writes that row again: the first write was replaced by the
 * app itself (the rest of its row was still the app's), so only the newer one has to reach the
 * server. Seed 731120808 (server-wins): device2 wrote links/L0 under folder F3, another device
 * deleted F3, device2's pull set L0's folder_id to null, then device2 wrote L0 again before its
 * next push; the ledger reported the first write as lost.
 */
import { expect, it } from 'vitest';
import { ChangeLedger } from './support/change-ledger.ts';
import type { Row } from './support/change-ledger.ts';

const link = (folder: string | null, url: string): Row => ({ id: 'L0', folder_id: folder, url });

function writeLink(ledger: ChangeLedger, step: number, from: Row, to: Row): void {
  ledger.recordWrite('device2', step, 'links', 'L0', new Map([['links/L0', from]]), new Map([['links/L0', to]]));
}

it('a write whose SET NULL column a pull nulled, then rewritten by the app, is replaced', () => {
  const ledger = new ChangeLedger();
  ledger.noteSource('device2', 'source-2');
  writeLink(ledger, 17, null, link('F3', 'https://x/ 17'));
  // The pull of F3's delete nulled folder_id; the app's next write starts from that row.
  writeLink(ledger, 76, link(null, 'https://x/ 17'), link(null, 'https://x/ 76'));
  const onServer = [{ seq: 13, table: 'links', key: 'L0', op: 1, payload: link(null, 'https://x/ 76'), source: 'source-2' }];
  expect(ledger.unaccounted(onServer, { links: [link(null, 'https://x/ 76')!] })).toEqual([]);
});

it('a write whose other columns a pull changed is not replaced by the app', () => {
  const ledger = new ChangeLedger();
  ledger.noteSource('device2', 'source-2');
  writeLink(ledger, 17, null, link('F3', 'https://x/ 17'));
  // Another device's url came down: the app's write of step 17 lost to it, so it needs an event.
  writeLink(ledger, 76, link(null, 'https://x/ other'), link(null, 'https://x/ 76'));
  const onServer = [{ seq: 13, table: 'links', key: 'L0', op: 1, payload: link(null, 'https://x/ 76'), source: 'source-2' }];
  const unaccounted = ledger.unaccounted(onServer, { links: [link(null, 'https://x/ 76')!] });
  expect(unaccounted).toHaveLength(1);
  expect(unaccounted[0]).toMatch(/^device2 step 17: links\/L0 /);
});
