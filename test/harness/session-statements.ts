/**
 * A `wrapDatabase` hook for `startSyncServer` that records the text of every statement the
 * server runs on a pooled session (`withConnection`), in order: for tests that pin how many
 * statements, or which, a request costs.
 */
import type { SqlDatabase, SqlSession } from '../../server/database/types.ts';

/** Returns the hook; each statement's SQL text is appended to `statements`. */
export function recordingSessionStatements(statements: string[]): (db: SqlDatabase) => SqlDatabase {
  const wrap = (s: SqlSession): SqlSession => ({
    query(text, params) {
      statements.push(text);
      return s.query(text, params);
    },
  });
  return (db) =>
    new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === 'withConnection') return <T>(fn: (s: SqlSession) => Promise<T>) => target.withConnection((s) => fn(wrap(s)));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
}
