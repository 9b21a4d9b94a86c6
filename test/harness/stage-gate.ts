/**
 * Deterministic fault injection at a stage of a request: `StageGate.wrap(db)` returns the same
 * real PostgreSQL database, except that the next statement matching an armed pattern pauses (just
 * before it is sent, or just after its result came back) and reports the PostgreSQL backend pid of
 * the connection that runs it. The test then kills that backend (`terminateBackend`) and resumes:
 * the request continues on a dead connection exactly as it would after a failover or admin kill at
 * that point. No sleeps: the pause is a promise the test awaits.
 *
 * ```ts
 * const gate = new StageGate();
 * const h = await startSyncServer({ wrapDatabase: (db) => gate.wrap(db) });
 * const paused = gate.arm(/SET CONSTRAINTS ALL IMMEDIATE/, 'after');
 * const commit = dev.commit(pushId);           // runs until the statement, then waits
 * const at = await paused;                     // { pid, sql, resume }
 * await terminateBackend(at.pid); at.resume();
 * expect((await commit).status).toBe(503);
 * ```
 */
import pg from 'pg';
import type { SqlDatabase, SqlSession } from '../../server/database/types.ts';
import { ADMIN_URL } from './test-database.ts';

/** A request stopped at the armed statement. */
export interface PausedStage {
  /** Backend pid of the connection that runs the statement. */
  pid: number;
  /** The statement's SQL text. */
  sql: string;
  /** Lets the request continue (its next statement meets whatever the test did meanwhile). */
  resume(): void;
}

interface Armed {
  pattern: RegExp;
  when: 'before' | 'after';
  reached: (stage: PausedStage) => void;
}

/** Pauses requests at chosen statements of a real database. */
export class StageGate {
  private armed: Armed | null = null;

  /** Pauses the next statement whose SQL matches `pattern`, `before` it runs or `after` it returned. */
  arm(pattern: RegExp, when: 'before' | 'after' = 'before'): Promise<PausedStage> {
    if (this.armed) throw new Error('StageGate: already armed');
    return new Promise((reached) => {
      this.armed = { pattern, when, reached };
    });
  }

  /**
   * The database with the gate in front of every statement: connection-bound ones, and a pooled
   * one (`db.query`) that matches the armed pattern, which then runs on a connection of its own.
   */
  wrap(db: SqlDatabase): SqlDatabase {
    const gate = this;
    const gated = (inner: SqlSession): SqlSession => ({
      async query<R>(text: string, params?: readonly unknown[]) {
        const armed = gate.take(text, 'before');
        if (armed) await gate.pause(inner, armed, text);
        const result = await inner.query<R>(text, params);
        const after = gate.take(text, 'after');
        if (after) await gate.pause(inner, after, text);
        return result;
      },
    });
    return {
      kind: db.kind,
      query: (text, params) =>
        gate.armed?.pattern.test(text) ? db.withConnection((inner) => gated(inner).query(text, params)) : db.query(text, params),
      listen: (channel, onNotify, onError) => db.listen(channel, onNotify, onError),
      close: () => db.close(),
      withConnection<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
        return db.withConnection((inner) => fn(gated(inner)));
      },
    };
  }

  private take(text: string, when: 'before' | 'after'): Armed | null {
    const a = this.armed;
    if (!a || a.when !== when || !a.pattern.test(text)) return null;
    this.armed = null;
    return a;
  }

  private async pause(session: SqlSession, armed: Armed, sql: string): Promise<void> {
    const pid = Number((await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    await new Promise<void>((resume) => armed.reached({ pid, sql, resume }));
  }
}

/** Terminates a backend from an admin connection and waits (up to 5 s) until it is gone. */
export async function terminateBackend(pid: number, adminUrl = ADMIN_URL): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const r = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1, 5000) AS ok', [pid]);
    if (!r.rows[0]?.ok) throw new Error(`backend ${pid} was not terminated`);
  } finally {
    await admin.end();
  }
}
