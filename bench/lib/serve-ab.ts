/**
 * The parts of the old-vs-new server probes (`pull-serve-ab.ts`, `snapshot-chunk-serve-ab.ts`):
 * a side is one checkout's example server (a child process, fresh database) holding N rows pushed
 * by a device of that checkout's client code; the report prints each series' quartiles and the
 * paired new − old differences (each round's old and new ran back to back, under the same load).
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { childPids, threadCpuMs } from './process-cpu.ts';

/** One checkout's server, seeded. */
export interface SeededSide {
  label: 'old' | 'new';
  baseUrl: string;
  /** The server child's pid (for its CPU). */
  pid: number;
  /** The user holding the rows. */
  user: string;
  /** CPU ms so far of the PostgreSQL backends connected to this side's database (those open now). */
  databaseCpuMs(): Promise<number>;
  tokenFor(user: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the example server of the checkout at `root` and pushes `rows` rows as a user named after `userPrefix`. */
export async function startSeededSide(label: 'old' | 'new', root: string, rows: number, userPrefix: string): Promise<SeededSide> {
  const lib = (await import(pathToFileURL(`${root}/bench/lib/sync-server.ts`).href)) as typeof import('./sync-server.ts');
  const dev = (await import(pathToFileURL(`${root}/bench/lib/example-device.ts`).href)) as typeof import('./example-device.ts');
  const before = childPids();
  const admin = new pg.Client({ connectionString: process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const databases = async () =>
    new Set((await admin.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map((r) => r.datname));
  const databasesBefore = await databases();
  const server = await lib.startExampleSyncServer();
  // Other work on the machine may create databases meanwhile: the example server's are named so.
  const created = [...(await databases())].filter((d) => !databasesBefore.has(d) && d.startsWith('oversqlite_bench_vs_go_'));
  if (created.length !== 1) throw new Error(`${label}: server database not found (${created.join(', ')})`);
  const database = created[0]!;
  const pid = [...childPids()].find((p) => !before.has(p));
  if (pid === undefined) throw new Error(`${label}: server child not found`);
  const user = `${userPrefix}-${label}-${Date.now().toString(36)}`;
  const pusher = await dev.openExampleDevice(server.baseUrl, () => server.tokenFor(user), { pushChunkRows: 5000 });
  await pusher.engine.attach(user);
  pusher.insert(7, 0, rows);
  await pusher.engine.pushPending();
  await pusher.close();
  const databaseCpuMs = async (): Promise<number> => {
    const pids = (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database])).rows;
    let ms = 0;
    for (const { pid } of pids) {
      try {
        ms += threadCpuMs(pid);
      } catch {
        // gone meanwhile
      }
    }
    return ms;
  };
  const close = async (): Promise<void> => {
    await admin.end();
    await server.close();
  };
  return { label, baseUrl: server.baseUrl, pid, user, databaseCpuMs, tokenFor: server.tokenFor, close };
}

/** Prints every series of `results` (keys `<old|new> <what>`) and, per `what`, the old and new means and their paired median difference. */
export function printServeAb(results: Map<string, number[]>, whats: readonly string[]): void {
  const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [k, v] of [...results].sort()) {
    const s = sorted(v);
    const q = (p: number): string => s[Math.floor(p * (s.length - 1))]!.toFixed(1);
    console.log(`${k.padEnd(20)} median ${q(0.5).padStart(7)}  (p25 ${q(0.25)}, p75 ${q(0.75)}, min ${q(0)}, n ${s.length})`);
  }
  for (const what of whats) {
    const olds = results.get(`old ${what}`)!;
    const news = results.get(`new ${what}`)!;
    const diffs = sorted(news.map((v, i) => v - olds[i]!));
    console.log(`${what}: mean old ${mean(olds).toFixed(2)}, new ${mean(news).toFixed(2)}`);
    console.log(`new − old ${what.padEnd(14)} paired median ${diffs[diffs.length >> 1]!.toFixed(1)} ms (n ${diffs.length})`);
  }
}
