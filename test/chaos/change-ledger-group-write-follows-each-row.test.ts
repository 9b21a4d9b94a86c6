/**
 * The chaos ledger (support/change-ledger.ts) when one group commit writes two keys whose rows it
 * already follows: each write must find the key's earlier write as its previous one, though the
 * group's rows are read once before and once after. Seed 825000058 (server-wins): device0 created
 * team T1, then in one group added person Q0 and made Q0 T1's captain (and again with Q1), then
 * deleted T1 before any sync. The engine folded T1's insert and delete into nothing (device1's T1
 * on the server is another row), but recording Q0's write moved T1's followed row to the group's
 * after-row, so the captaincy write found no previous write, lost T1's creation, and the delete
 * was reported as a local change neither on the server nor reported.
 */
import { expect, it } from 'vitest';
import { ChangeLedger } from './support/change-ledger.ts';
import type { Row } from './support/change-ledger.ts';

const team = (captain: string | null): Row => ({ id: 'T1', captain_id: captain, name: 'team 44' });
const person = (id: string): Row => ({ id, team_id: 'T1', name: `person ${id}` });

/** One group: person `id` joins T1 and becomes its captain (people written first, as chaos-run does). */
function joinAsCaptain(ledger: ChangeLedger, step: number, id: string, captainBefore: string | null, people: Row[]): void {
  const before = new Map<string, Row>([
    ['teams/T1', team(captainBefore)],
    [`people/${id}`, null],
    ...people.map((p): [string, Row] => [`people/${String(p!.id)}`, p]),
  ]);
  const after = new Map<string, Row>([
    ['teams/T1', team(id)],
    [`people/${id}`, person(id)],
    ...people.map((p): [string, Row] => [`people/${String(p!.id)}`, p]),
  ]);
  ledger.recordGroup(
    'device0',
    step,
    [
      { table: 'people', key: id },
      { table: 'teams', key: 'T1' },
    ],
    before,
    after,
  );
}

it('a delete of a row created here and rewritten in groups with other keys is local', () => {
  const ledger = new ChangeLedger();
  ledger.noteSource('device0', 'source-0');
  ledger.recordWrite('device0', 44, 'teams', 'T1', new Map([['teams/T1', null]]), new Map([['teams/T1', team(null)]]));
  joinAsCaptain(ledger, 47, 'Q0', null, []);
  joinAsCaptain(ledger, 49, 'Q1', 'Q0', [person('Q0')]);
  // The delete cascades to the people of T1.
  const before = new Map<string, Row>([
    ['teams/T1', team('Q1')],
    ['people/Q0', person('Q0')],
    ['people/Q1', person('Q1')],
  ]);
  const after = new Map<string, Row>([
    ['teams/T1', null],
    ['people/Q0', null],
    ['people/Q1', null],
  ]);
  ledger.recordWrite('device0', 59, 'teams', 'T1', before, after);
  // Only another device's T1 is on the server.
  const otherT1 = { id: 'T1', captain_id: null, name: 'team 20' };
  const history = [{ seq: 1, table: 'teams', key: 'T1', op: 1, payload: otherT1, source: 'source-1' }];
  expect(ledger.unaccounted(history, { teams: [otherT1], people: [] })).toEqual([]);
});
