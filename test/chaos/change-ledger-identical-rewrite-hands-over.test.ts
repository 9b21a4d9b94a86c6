/**
 * The chaos ledger (support/change-ledger.ts) when the app writes a key again without changing
 * its row (an `UPDATE teams SET captain_id = ?` naming the captain the team already has) and then
 * changes the row: the first write was replaced by the app itself, like the identical one after
 * it. Seeds 913224 (server-wins) and 913295 (client-wins) reported such a write as lost, though
 * the app had replaced it before any push could carry it.
 */
import { expect, it } from 'vitest';
import { ChangeLedger } from './support/change-ledger.ts';
import type { Row } from './support/change-ledger.ts';

const team = (captain: string | null): Row => ({ id: 'T2', captain_id: captain, name: 'team 43' });

/** Records a write of teams/T2 on device0 that took the row from `from` to `to`. */
function writeTeam(ledger: ChangeLedger, step: number, from: Row, to: Row): void {
  ledger.recordWrite('device0', step, 'teams', 'T2', new Map([['teams/T2', from]]), new Map([['teams/T2', to]]));
}

it('a write rewritten unchanged and then changed by the app is replaced, not unaccounted', () => {
  const ledger = new ChangeLedger();
  ledger.noteSource('device0', 'source-0');
  writeTeam(ledger, 43, null, team(null));
  writeTeam(ledger, 48, team(null), team('Q3'));
  writeTeam(ledger, 49, team('Q3'), team('Q3'));
  writeTeam(ledger, 52, team('Q3'), team('Q1'));
  const onServer = [{ seq: 1, table: 'teams', key: 'T2', op: 1, payload: team('Q1'), source: 'source-0' }];
  expect(ledger.unaccounted(onServer, { teams: [team('Q1')!] })).toEqual([]);
});

it('the newest of the identical writes still has to reach the server or be reported', () => {
  const ledger = new ChangeLedger();
  ledger.noteSource('device0', 'source-0');
  writeTeam(ledger, 43, null, team(null));
  writeTeam(ledger, 48, team(null), team('Q3'));
  writeTeam(ledger, 49, team('Q3'), team('Q3'));
  const unaccounted = ledger.unaccounted([], { teams: [] });
  expect(unaccounted).toHaveLength(1);
  expect(unaccounted[0]).toMatch(/^device0 step 49: teams\/T2 /);
  ledger.noteEvent('device0', 'teams', 'T2');
  expect(ledger.unaccounted([], { teams: [] })).toEqual([]);
});
