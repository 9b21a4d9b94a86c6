/**
 * Our sync engine (`worker/engine`, in Node over in-memory sqlite-wasm) as a child process the Go
 * program drives, so that one scenario can run go-oversync's Go client (numbers dialect) and our
 * client (strings dialect) against one server and one user's data.
 *
 * One JSON command per stdin line, one JSON answer per stdout line (`{"ok":true,"result":…}` or
 * `{"ok":false,"error":"…","code":"…"}`). Commands:
 *   {"cmd":"open","user":…}           engine over a fresh database with the example schema
 *   {"cmd":"attach"} | {"cmd":"sync"} the engine's attach(user) / sync()
 *   {"cmd":"exec","sql":…}            app SQL
 *   {"cmd":"rows","table":…}          every row, each column as [sqlite type, value]: integers as
 *                                      exact decimal text, reals as JSON numbers, blobs as hex
 *   {"cmd":"status"}
 * Env: OVERSQLITE_SERVER_URL, JWT_SECRET. The end of stdin closes the engine and exits.
 */
import { createInterface } from 'node:readline';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { signDevToken } from '../../server/auth/dev-token.ts';
import { memoryDb } from '../../test/engine/support/sqlite.ts';
import { SyncEngine } from '../../worker/engine/index.ts';
import { LOCAL_SCHEMA, LOCAL_TABLES } from '../node/support/example-schema.ts';

type Command = { cmd: string; user?: string; sql?: string; table?: string };

const serverUrl = process.env.OVERSQLITE_SERVER_URL;
const secret = process.env.JWT_SECRET;
let engine: SyncEngine | null = null;
let db: Database | null = null;
let user = '';

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`${what}: send {"cmd":"open"} first`);
  return value;
}

/** Every row of a table; each column as [typeof, value] with integers as exact text. */
function readRows(d: Database, table: string): Record<string, [string, unknown]>[] {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`bad table name ${table}`);
  const columns = d
    .exec({ sql: `SELECT name FROM pragma_table_info('${table}')`, rowMode: 'array', returnValue: 'resultRows' })
    .map((r) => String(r[0]));
  const select = columns
    .map((c) => `typeof("${c}"), CASE typeof("${c}") WHEN 'integer' THEN CAST("${c}" AS TEXT) WHEN 'blob' THEN hex("${c}") ELSE "${c}" END`)
    .join(', ');
  return d.exec({ sql: `SELECT ${select} FROM "${table}"`, rowMode: 'array', returnValue: 'resultRows' }).map((r) => {
    const row: Record<string, [string, unknown]> = {};
    columns.forEach((c, i) => {
      row[c] = [String(r[2 * i]), r[2 * i + 1]];
    });
    return row;
  });
}

async function run(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'open': {
      if (!serverUrl || !secret) throw new Error('OVERSQLITE_SERVER_URL and JWT_SECRET must be set');
      if (!c.user) throw new Error('open needs "user"');
      user = c.user;
      const opened = await memoryDb(LOCAL_SCHEMA);
      db = opened.db;
      engine = await SyncEngine.open({
        sqlite3: opened.sqlite3,
        db,
        remoteSchema: 'business',
        tables: LOCAL_TABLES,
        serverUrl,
        getToken: () => signDevToken(secret, user, 3600),
      });
      return { sourceId: engine.status.sourceId };
    }
    case 'attach':
      return need(engine, 'attach').attach(user);
    case 'sync':
      return need(engine, 'sync').sync();
    case 'exec':
      need(db, 'exec').exec(c.sql ?? '');
      return null;
    case 'rows':
      return readRows(need(db, 'rows'), c.table ?? '');
    case 'status':
      return need(engine, 'status').status;
    default:
      throw new Error(`unknown command ${JSON.stringify(c.cmd)}`);
  }
}

const reply = (answer: unknown): void => {
  process.stdout.write(`${JSON.stringify(answer, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
};

const lines = createInterface({ input: process.stdin });
// One command at a time, in order.
let queue: Promise<void> = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    try {
      reply({ ok: true, result: await run(JSON.parse(line) as Command) });
    } catch (err) {
      const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : undefined;
      reply({ ok: false, error: err instanceof Error ? err.message : String(err), code });
    }
  });
});
lines.on('close', () => {
  void queue.then(async () => {
    await engine?.close().catch(() => {});
    process.exit(0);
  });
});
