/**
 * The frozen push order: upserts parents-first (configuration/FK order), then deletes
 * children-first, each group in capture order (the order keys were first changed, not key
 * order). A bundle of upserts of one table is frozen in capture order too (the path that walks
 * the capture-order index instead of sorting).
 */
import { expect, it } from 'vitest';
import { attachStartedEmpty, openEngine } from './support/engine.ts';
import { PushResponder } from './support/push-responder.ts';

const SCHEMA = `
CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, user_id TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, title TEXT NOT NULL);`;
const TABLES = [
  { table: 'users', syncKey: 'id' },
  { table: 'posts', syncKey: 'id' },
];

it('orders upserts parents-first and deletes children-first, each in capture order', async () => {
  const s = await openEngine(SCHEMA, TABLES);
  await attachStartedEmpty(s);
  const server = new PushResponder();
  server.install(s.server);
  const pushed = () => server.committed.at(-1)!.rows.map((r) => `${r.op} ${r.table} ${r.key.id}`);

  // One table, upserts only: capture order, not key order.
  s.db.exec(
    "INSERT INTO users VALUES ('u3', 'c'); INSERT INTO users VALUES ('u1', 'a'); INSERT INTO users VALUES ('u2', 'b'); UPDATE users SET name = 'c2' WHERE id = 'u3'",
  );
  await s.engine.pushPending();
  expect(pushed()).toEqual(['INSERT users u3', 'INSERT users u1', 'INSERT users u2']);

  s.db.exec("INSERT INTO posts VALUES ('p2', 'u1', 'x'); INSERT INTO posts VALUES ('p1', 'u2', 'y')");
  await s.engine.pushPending();
  expect(pushed()).toEqual(['INSERT posts p2', 'INSERT posts p1']);

  // Mixed: a child captured before its parent, deletes of both kinds.
  s.db.exec(`BEGIN;
             INSERT INTO posts VALUES ('p3', 'u4', 'z');
             DELETE FROM users WHERE id = 'u3';
             INSERT INTO users VALUES ('u4', 'd');
             DELETE FROM posts WHERE id = 'p2';
             UPDATE users SET name = 'b2' WHERE id = 'u2';
             DELETE FROM posts WHERE id = 'p1';
             COMMIT`);
  await s.engine.pushPending();
  expect(pushed()).toEqual([
    'INSERT users u4',
    'UPDATE users u2',
    'INSERT posts p3',
    'DELETE posts p2',
    'DELETE posts p1',
    'DELETE users u3',
  ]);
  expect(s.engine.status.pendingCount).toBe(0);
});
