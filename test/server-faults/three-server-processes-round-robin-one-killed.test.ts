// Three reference server processes (server/reference/main.ts, real child processes) on one
// PostgreSQL database, behind a round-robin proxy that sends every request to the next process: a
// push session is created on one, gets its chunks on another and is committed on a third; a
// device's watch stream is held by one process while other devices' writes commit on others.
// Many Node engine devices (several per user) write with autoSync (debounce, watch on, no periodic
// run: only watch wake-ups bring other devices' changes), and one process is killed with SIGKILL
// in the middle of the run and started again on the same port. Checked after the run, with no
// manual step (no hydrate, no explicit sync): every device holds exactly PostgreSQL's rows, every
// row a device wrote is there once (nothing lost or doubled), nothing stays pending, and a write
// through one process wakes devices whose watch streams are on the others.
//
// OVERSQLITE_MULTIPROC_DEVICES (default 200), OVERSQLITE_MULTIPROC_OPS (writes per device,
// default 4), OVERSQLITE_MULTIPROC_SEED (default: random, printed), OVERSQLITE_TRACE=1 (print the
// settling progress). `npm run multi-process` is the long mode.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import type { Database } from '@sqlite.org/sqlite-wasm';
import { SyncEngine } from '../../worker/engine/index.ts';
import type { SyncEvent } from '../../worker/engine/index.ts';
import { appSchema, syncedTables } from '../../demo/src/schema.ts';
import { memoryDb } from '../engine/support/sqlite.ts';
import { HARNESS_JWT_SECRET, signHarnessToken } from '../harness/sync-server.ts';
import { createTestDatabase, TEST_DB_KIND } from '../harness/test-database.ts';
import type { TestDatabase } from '../harness/test-database.ts';
import { startRoundRobinProxy } from '../harness/round-robin-proxy.ts';
import type { RoundRobinProxy } from '../harness/round-robin-proxy.ts';
import { startReferenceProcess } from '../server-edges/fixtures/reference-process.ts';
import type { ReferenceProcess } from '../server-edges/fixtures/reference-process.ts';

const DEVICES = Number(process.env.OVERSQLITE_MULTIPROC_DEVICES ?? 200);
const OPS = Number(process.env.OVERSQLITE_MULTIPROC_OPS ?? 4);
const DEVICES_PER_USER = 4;
const SEED = Number(process.env.OVERSQLITE_MULTIPROC_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** xorshift32: seedable, the same sequence everywhere. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Device {
  name: string;
  user: string;
  db: Database;
  engine: SyncEngine;
  lost: number;
  conflicts: number;
  selfHeals: number;
}

const processes: ReferenceProcess[] = [];
let testDb: TestDatabase | undefined;
let proxy: RoundRobinProxy | undefined;
const devices: Device[] = [];

afterAll(async () => {
  await Promise.all(devices.map((d) => d.engine.close().catch(() => {})));
  await proxy?.close();
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  }
  await Promise.all(processes.map((p) => p.exited));
  await testDb?.drop();
});

function rows(db: Database, sql: string): Record<string, unknown>[] {
  return db.exec({ sql, rowMode: 'object', returnValue: 'resultRows' }).map((r) => ({ ...(r as object) }));
}

/** A device's synced rows, in one comparable form (UUIDs lowercase, booleans as 0/1). */
function localState(db: Database): string {
  return JSON.stringify({
    projects: rows(db, 'SELECT lower(id) AS id, name FROM projects ORDER BY 1'),
    tasks: rows(db, 'SELECT lower(id) AS id, lower(project_id) AS project_id, title, done FROM tasks ORDER BY 1'),
    comments: rows(db, 'SELECT lower(id) AS id, lower(task_id) AS task_id, body FROM comments ORDER BY 1'),
  });
}

/** PostgreSQL's rows of every user, in the form of {@link localState}. */
async function serverStates(database: TestDatabase['database']): Promise<Map<string, string>> {
  const q = async (sql: string): Promise<Array<Record<string, unknown> & { u: string }>> => (await database.query(sql)).rows as never;
  const projects = await q('SELECT _sync_scope_id AS u, id::text AS id, name FROM business.projects ORDER BY 1, 2');
  const tasks = await q(
    'SELECT _sync_scope_id AS u, id::text AS id, project_id::text AS project_id, title, done::int AS done FROM business.tasks ORDER BY 1, 2',
  );
  const comments = await q(
    'SELECT _sync_scope_id AS u, id::text AS id, task_id::text AS task_id, body FROM business.comments ORDER BY 1, 2',
  );
  const users = new Set(devices.map((d) => d.user));
  const strip = (list: Array<Record<string, unknown> & { u: string }>, user: string) =>
    list.filter((r) => r.u === user).map(({ u: _u, ...rest }) => rest);
  return new Map(
    [...users].map((user) => [
      user,
      JSON.stringify({ projects: strip(projects, user), tasks: strip(tasks, user), comments: strip(comments, user) }),
    ]),
  );
}

it.skipIf(TEST_DB_KIND !== 'postgres')(
  `${DEVICES} devices, 3 server processes behind a round-robin proxy, one killed mid-run: all converge, nothing lost or doubled`,
  async () => {
    console.log(`[multi-process] seed ${SEED} (replay: OVERSQLITE_MULTIPROC_SEED=${SEED}), ${DEVICES} devices, ${OPS} writes each`);
    const rand = prng(SEED);
    const started = Date.now();
    testDb = await createTestDatabase('multiproc');
    const ports = [await freePort(), await freePort(), await freePort()];
    const env = (port: number) => ({ PORT: String(port), DATABASE_URL: testDb!.connectionString!, JWT_SECRET: HARNESS_JWT_SECRET });
    // Keep every process that started, so afterAll stops them even when another failed to start.
    const starts = await Promise.allSettled(ports.map((port) => startReferenceProcess(env(port))));
    for (const start of starts) if (start.status === 'fulfilled') processes.push(start.value);
    const failedStart = starts.find((start) => start.status === 'rejected');
    if (failedStart !== undefined) throw failedStart.reason;
    proxy = await startRoundRobinProxy(processes.map((p) => p.url));

    // Devices: DEVICES_PER_USER per user, attached a few at a time.
    const expected = { projects: new Set<string>(), tasks: new Set<string>(), comments: new Set<string>() };
    for (let i = 0; i < DEVICES; i++) {
      const user = `mp-${SEED}-${Math.floor(i / DEVICES_PER_USER)}`;
      const { sqlite3, db } = await memoryDb(appSchema.migrations[0]!);
      const engine = await SyncEngine.open({
        sqlite3,
        db,
        remoteSchema: 'business',
        tables: syncedTables,
        serverUrl: proxy.url,
        getToken: async () => signHarnessToken(user),
        autoSync: { debounceMs: 50, intervalMs: 0, watch: true },
        pushChunkRows: 1, // every row its own chunk request: sessions span processes
      });
      const device: Device = { name: `d${i}`, user, db, engine, lost: 0, conflicts: 0, selfHeals: 0 };
      engine.subscribe((e: SyncEvent) => {
        if (e.type === 'lost') device.lost++;
        else if (e.type === 'conflict') device.conflicts++;
        else if (e.type === 'self_heal') device.selfHeals++;
      });
      devices.push(device);
    }
    for (let i = 0; i < devices.length; i += 20) await Promise.all(devices.slice(i, i + 20).map((d) => d.engine.attach(d.user)));
    const attachedAt = Date.now();

    // Writes: each device OPS times, paced at random, autoSync pushes them; process 1 is killed halfway.
    const total = DEVICES * OPS;
    let done = 0;
    let killed: Promise<void> | undefined;
    const now = (): string => new Date().toISOString();
    const uuid = (): string => crypto.randomUUID();
    const pick = (list: Record<string, unknown>[]): string | undefined =>
      list.length === 0 ? undefined : String(list[Math.floor(rand() * list.length)]!.id);
    const write = (d: Device, n: number): void => {
      const r = rand();
      const project = pick(rows(d.db, 'SELECT id FROM projects ORDER BY id'));
      const task = pick(rows(d.db, 'SELECT id FROM tasks ORDER BY id'));
      if (project === undefined || r < 0.2) {
        const id = uuid();
        d.db.exec({
          sql: 'INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)',
          bind: [id, `${d.name}-p${n}`, now(), now()],
        });
        expected.projects.add(id);
      } else if (task === undefined || r < 0.55) {
        const id = uuid();
        d.db.exec({
          sql: 'INSERT INTO tasks (id, project_id, title, updated_at) VALUES (?, ?, ?, ?)',
          bind: [id, project, `${d.name}-t${n}`, now()],
        });
        expected.tasks.add(id);
      } else if (r < 0.8) {
        const id = uuid();
        d.db.exec({
          sql: 'INSERT INTO comments (id, task_id, body, created_at) VALUES (?, ?, ?, ?)',
          bind: [id, task, `${d.name}-c${n}`, now()],
        });
        expected.comments.add(id);
      } else if (r < 0.93) {
        d.db.exec({
          sql: 'UPDATE tasks SET title = ?, done = 1 - done, updated_at = ? WHERE id = ?',
          bind: [`${d.name}-u${n}`, now(), task],
        });
      } else {
        // Deletes touch only this device's own leaves, so the expected final rows are known exactly.
        const own = pick(rows(d.db, `SELECT id FROM comments WHERE body LIKE '${d.name}-c%' ORDER BY id`));
        if (own !== undefined) {
          d.db.exec({ sql: 'DELETE FROM comments WHERE id = ?', bind: [own] });
          expected.comments.delete(own);
        }
      }
      d.engine.notifyLocalWrite();
    };
    const pace = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 400)));
    let killedAt = 0;
    let restartedAt = 0;
    await Promise.all(
      devices.map(async (d) => {
        for (let n = 0; n < OPS; n++) {
          await pace();
          write(d, n);
          if (++done === Math.floor(total / 2)) {
            killedAt = Date.now();
            processes[1]!.child.kill('SIGKILL');
            killed = processes[1]!.exited.then(async () => {
              processes[1] = await startReferenceProcess(env(ports[1]!));
              restartedAt = Date.now();
            });
          }
        }
      }),
    );
    await killed;
    const writesDoneAt = Date.now();

    // Settle with no manual step: devices push by themselves and learn of others' writes through watch.
    const diverging = async (): Promise<string[]> => {
      const server = await serverStates(testDb!.database);
      return devices.filter((d) => d.engine.status.pendingCount !== 0 || localState(d.db) !== server.get(d.user)).map((d) => d.name);
    };
    let left = await diverging();
    const deadline = Date.now() + 120_000;
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      left = await diverging();
      if (process.env.OVERSQLITE_TRACE)
        console.log(
          `[multi-process] ${Date.now() - writesDoneAt} ms: ${left.length} devices not settled; pending ${devices.filter((d) => d.engine.status.pendingCount > 0).length}; errors ${devices
            .filter((d) => d.engine.status.lastError !== null)
            .map((d) => d.engine.status.lastError?.code)
            .join(',')}`,
        );
    }
    const settledAt = Date.now();
    const finalServer = await serverStates(testDb!.database);
    const userSeq = async (user: string): Promise<string> =>
      String(
        (
          await testDb!.database.query(
            'SELECT max(b.bundle_seq) AS s FROM sync.bundle_log b JOIN sync.user_state u USING (user_pk) WHERE u.user_id = $1',
            [user],
          )
        ).rows[0]?.s,
      );
    const stuck = await Promise.all(
      devices
        .filter((d) => left.includes(d.name))
        .map(async (d) => {
          const mine = JSON.parse(localState(d.db)) as Record<string, unknown[]>;
          const theirs = JSON.parse(finalServer.get(d.user) ?? '{}') as Record<string, unknown[]>;
          const diff = Object.keys(mine)
            .map((t) => {
              const a = new Set(mine[t]!.map((r) => JSON.stringify(r)));
              const b = new Set((theirs[t] ?? []).map((r) => JSON.stringify(r)));
              return `${t}: only local ${[...a].filter((x) => !b.has(x)).join(' ')} only server ${[...b].filter((x) => !a.has(x)).join(' ')}`;
            })
            .join('; ');
          return (
            `${d.name} (${d.user}): pending ${d.engine.status.pendingCount}, phase ${d.engine.status.phase}, checkpoint ${d.engine.status.checkpoint} of ${await userSeq(d.user)}, ` +
            `lastError ${JSON.stringify(d.engine.status.lastError)}; ${diff}`
          );
        }),
    );
    expect(stuck).toEqual([]);

    // Nothing lost, nothing doubled: PostgreSQL holds exactly the rows the devices wrote, each once.
    const ids = async (table: string): Promise<string[]> =>
      ((await testDb!.database.query(`SELECT id::text AS id FROM business.${table}`)).rows as Array<{ id: string }>)
        .map((r) => r.id)
        .sort();
    expect(await ids('projects')).toEqual([...expected.projects].sort());
    expect(await ids('tasks')).toEqual([...expected.tasks].sort());
    expect(await ids('comments')).toEqual([...expected.comments].sort());
    const doubled = await testDb!.database.query(
      'SELECT key_text, count(*) AS n FROM sync.bundle_rows WHERE op_code = 1 GROUP BY user_pk, table_id, key_text HAVING count(*) > 1',
    );
    expect(doubled.rows).toEqual([]);
    expect(devices.reduce((n, d) => n + d.lost, 0)).toBe(0);

    // Wake-ups across processes: one device per user writes; the others of the user must pull it by
    // themselves, through the watch stream of whichever process holds it.
    const users = [...new Set(devices.map((d) => d.user))];
    const wakeStart = Date.now();
    const latencies: number[] = [];
    await Promise.all(
      users.map(async (user) => {
        const [writer, ...others] = devices.filter((d) => d.user === user);
        const id = uuid();
        const arrived = others.map(
          (d) =>
            new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`${d.name} was not woken for ${user}'s write within 30 s`)), 30_000);
              const check = (): boolean => {
                if (rows(d.db, `SELECT 1 FROM projects WHERE lower(id) = '${id}'`).length === 0) return false;
                clearTimeout(timer);
                off();
                latencies.push(Date.now() - wakeStart);
                resolve();
                return true;
              };
              const off = d.engine.subscribe((e) => {
                if (e.type === 'applied') check();
              });
            }),
        );
        writer!.db.exec({
          sql: 'INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)',
          bind: [id, `${writer!.name}-wake`, now(), now()],
        });
        writer!.engine.notifyLocalWrite();
        await Promise.all(arrived);
      }),
    );
    // Which process held each woken device's watch stream, and which committed the writer's push.
    const lastOn = (sourceId: string, path: RegExp): number =>
      proxy!.log.filter((r) => r.sourceId === sourceId && path.test(r.path) && r.status === 200).at(-1)?.backend ?? -1;
    let crossProcess = 0;
    for (const user of users) {
      const [writer, ...others] = devices.filter((d) => d.user === user);
      const committedOn = lastOn(writer!.engine.status.sourceId, /\/commit$/);
      for (const d of others) if (lastOn(d.engine.status.sourceId, /\/sync\/watch$/) !== committedOn) crossProcess++;
    }

    // Push sessions that spanned processes: create, chunks and commit of one session (one source's
    // requests from a create to its commit, in order) served by how many distinct processes.
    const sessionSpread = [0, 0, 0, 0];
    const open = new Map<string, Set<number>>();
    for (const r of proxy.log) {
      if (r.status !== 200) continue;
      if (r.method === 'POST' && r.path === '/sync/push-sessions') open.set(r.sourceId, new Set([r.backend]));
      else if (/^\/sync\/push-sessions\/[^/]+\/chunks$/.test(r.path)) open.get(r.sourceId)?.add(r.backend);
      else if (/^\/sync\/push-sessions\/[^/]+\/commit$/.test(r.path)) {
        const spread = open.get(r.sourceId);
        if (spread !== undefined) sessionSpread[spread.add(r.backend).size]!++;
        open.delete(r.sourceId);
      }
    }
    const perProcess = [0, 1, 2].map((i) => proxy!.log.filter((r) => r.backend === i).length);
    const badGateway = proxy.log.filter((r) => r.status === 502).length;
    const serverErrors = processes.flatMap((p) => p.lines.filter((l) => l.startsWith('ERROR')));
    const sum = (f: (d: Device) => number): number => devices.reduce((n, d) => n + f(d), 0);
    latencies.sort((a, b) => a - b);
    console.log(
      `[multi-process] attach ${attachedAt - started} ms; writes ${writesDoneAt - attachedAt} ms (${total} writes; process 1 killed ${killedAt - attachedAt} ms in, ` +
        `back after ${restartedAt - killedAt} ms); settled ${settledAt - writesDoneAt} ms after the last write; ` +
        `rows ${expected.projects.size}/${expected.tasks.size}/${expected.comments.size}; requests per process ${perProcess.join('/')}, 502s ${badGateway}; ` +
        `conflicts ${sum((d) => d.conflicts)}, self-heals ${sum((d) => d.selfHeals)}; wake-ups ${latencies.length} (median ${latencies[latencies.length >> 1]} ms, max ${latencies.at(-1)} ms), ` +
        `${crossProcess} across processes; push sessions on 1/2/3 processes ${sessionSpread.slice(1).join('/')}; server ERROR lines ${serverErrors.length}`,
    );
    for (const line of serverErrors.slice(0, 5)) console.log(`[multi-process] ${line}`);
    expect(crossProcess).toBeGreaterThan(0);
    expect(sessionSpread[3]).toBeGreaterThan(0);
    expect(serverErrors).toEqual([]);
  },
  600_000,
);
