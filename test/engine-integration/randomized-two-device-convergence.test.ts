/**
 * Randomized convergence against the real server: two devices of one user apply random local
 * writes (upserts and deletes over a small key pool, so conflicts are frequent) interleaved with
 * random syncs; at the end both sync to quiescence and must hold exactly PostgreSQL's rows.
 * Prints its seed; set OVERSQLITE_SEED to replay a run.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Device, World } from './support/devices.ts';
import { foreignKeyViolations, localRows, pgRows, startWorld, uuid } from './support/devices.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world?.close());

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const STRATEGIES = [
  ['server-wins', 'server-wins'],
  ['client-wins', 'server-wins'],
  ['client-wins', 'client-wins'],
] as const;

it.each(STRATEGIES)('two devices (%s / %s) converge to PostgreSQL under random concurrent edits', async (sa, sb) => {
  const seed = Number(process.env.OVERSQLITE_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`randomized convergence seed: ${seed} (${sa} / ${sb})`);
  const rand = prng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const user = `olga-${sa}-${sb}`;
  const a = await world.device(user, { conflicts: sa });
  const b = await world.device(user, { conflicts: sb });
  await a.engine.attach(user);
  await a.engine.sync();
  await b.engine.attach(user);
  const devices: Device[] = [a, b];
  const userKeys = [1, 2, 3, 4, 5].map(uuid);
  const tagKeys = ['red', 'green', 'blue', 'x<&>"y', 'ünï'];
  let counter = 0;
  for (let step = 0; step < Number(process.env.OVERSQLITE_STEPS ?? 40); step++) {
    const d = pick(devices);
    const r = rand();
    counter++;
    if (r < 0.35) {
      const id = pick(userKeys);
      d.db.exec({
        sql: 'INSERT INTO users(id, name, email) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email',
        bind: [id, `name ${counter}`, rand() < 0.5 ? null : `e${counter}@x`],
      });
    } else if (r < 0.6) {
      const name = pick(tagKeys);
      d.db.exec({
        sql: 'INSERT INTO tags(name, color, weight, meta) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET color = excluded.color, weight = excluded.weight, meta = excluded.meta',
        bind: [name, `c${counter}`, Math.floor(rand() * 2 ** 31) - 2 ** 30, JSON.stringify({ n: counter, s: "ü" })],
      });
    } else if (r < 0.68) {
      // A project under a user this device currently has (FK + ON DELETE CASCADE on both sides).
      const owner = d.db.selectValue('SELECT id FROM users ORDER BY id LIMIT 1 OFFSET ?', [Math.floor(rand() * 5)]);
      if (typeof owner === 'string') {
        d.db.exec({
          sql: 'INSERT INTO projects(id, owner_id, title) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title',
          bind: [uuid(100 + Math.floor(rand() * 4)), owner, `project ${counter}`],
        });
      }
    } else if (r < 0.78) {
      if (rand() < 0.5) d.db.exec({ sql: 'DELETE FROM users WHERE id = ?', bind: [pick(userKeys)] });
      else d.db.exec({ sql: 'DELETE FROM tags WHERE name = ?', bind: [pick(tagKeys)] });
    } else {
      await d.engine.sync().catch((e: unknown) => console.log(`step ${step}: ${(e as Error).message}`));
    }
  }
  // Quiescence: a sync may legitimately fail once (a bundle the server rolled back because of an
  // FK race is re-formed after the pull), so run rounds until both are clean.
  for (let round = 0; round < 6; round++) {
    for (const d of devices) await d.engine.sync().catch((e: unknown) => console.log(`round ${round}: ${(e as Error).message}`));
  }
  expect(a.engine.status.pendingCount).toBe(0);
  expect(b.engine.status.pendingCount).toBe(0);
  expect(a.engine.status.checkpoint).toBe(b.engine.status.checkpoint);
  const pgUsers = (await pgRows(world, 'users', user)).map((u) => ({ id: u.id, name: u.name, email: u.email }));
  const pgTags = (await pgRows(world, 'tags', user, 'name')).map((t) => ({ name: t.name, color: t.color, weight: String(t.weight) }));
  for (const d of devices) {
    expect(localRows(d.db, 'users').map((u) => ({ id: u.id, name: u.name, email: u.email }))).toEqual(pgUsers);
    const tags = localRows(d.db, 'tags', 'name').map((t) => ({ name: t.name, color: t.color, weight: String(t.weight) }));
    expect([...tags].sort((x, y) => (String(x.name) < String(y.name) ? -1 : 1))).toEqual([...pgTags].sort((x, y) => (String(x.name) < String(y.name) ? -1 : 1)));
  }
  expect(localRows(a.db, 'tags', 'name')).toEqual(localRows(b.db, 'tags', 'name'));
  const pgProjects = (await pgRows(world, 'projects', user)).map((p) => ({ id: p.id, owner_id: p.owner_id, title: p.title }));
  for (const d of devices) {
    expect(localRows(d.db, 'projects').map((p) => ({ id: p.id, owner_id: p.owner_id, title: p.title }))).toEqual(pgProjects);
    expect(foreignKeyViolations(d.db)).toBe(0);
  }
});
