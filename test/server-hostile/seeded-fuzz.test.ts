// A seeded fuzzer against a live server (real HTTP, real PostgreSQL or PGlite): four devices of two
// users, two per wire dialect, run generated cases in rounds (see test/harness/request-fuzzer.ts),
// and after every round: no answer is a 5xx other than the documented retryable 503s (and, for go-oversync sessions,
// its 500 push_session_commit_failed carrying the `rejection`), every error body is the protocol's
// envelope with a capped message and no database text, no bundle is partial (logged row counts
// equal stored bundle rows; live row versions equal business rows), and the server still answers.
// `npm test` runs a few hundred inputs; `npm run fuzz` runs 10,000+ (OVERSQLITE_FUZZ_CASES) and
// reports RSS. Reproduce a run with OVERSQLITE_FUZZ_SEED=<printed seed>.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HARNESS_JWT_SECRET, startSyncServer } from '../harness/sync-server.ts';
import type { StartedSyncServer } from '../harness/sync-server.ts';
import { Rng, newFuzzDevice, runFuzzCase } from '../harness/request-fuzzer.ts';
import type { FuzzAnswer, FuzzCaseResult, FuzzRequest } from '../harness/request-fuzzer.ts';

const CASES = Number(process.env.OVERSQLITE_FUZZ_CASES ?? 300);
const SEED = Number(process.env.OVERSQLITE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const DEVICES = 4;
const RETRYABLE_503 = new Set(['database_unavailable', 'database_busy', 'snapshot_build_capacity', 'snapshot_chunk_capacity']);
const DATABASE_TEXT =
  /SQLSTATE|syntax error|violates|relation "|constraint "|invalid input syntax|\bat [A-Za-z.<>]+ \(|node_modules|Maximum call stack|URI malformed/i;

let h: StartedSyncServer;
beforeAll(async () => {
  // Both dialects at once: devices 0 and 1 speak the contracts dialect, 2 and 3 go-oversync 1f1118f's.
  h = await startSyncServer({ purpose: 'seeded_fuzz', watch: { enabled: false }, wireDialect: 'auto' });
});
afterAll(() => h?.close());

/** A header value fetch can carry (ByteString without CR/LF/NUL); other source ids are checked elsewhere. */
function sendableHeader(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value) && value === value.trim();
}

async function send(request: FuzzRequest): Promise<FuzzAnswer> {
  const headers: Record<string, string> = {};
  if (request.token !== null) headers.Authorization = `Bearer ${request.token}`;
  if (request.sourceId !== null) headers['Oversync-Source-ID'] = request.sourceId;
  if (request.body !== undefined) headers['Content-Type'] = 'application/json';
  // fetch sends no body with GET; the generator's GET bodies are dropped.
  const body = request.method === 'GET' ? undefined : request.body;
  const res = await fetch(`${h.baseUrl}${request.path}`, { method: request.method, headers, body });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get('retry-after') };
}

/** What is wrong with one answer, or null. */
function answerProblem(answer: FuzzAnswer): string | null {
  // Node's own answer to request headers over its 16 KiB limit (a 10,000-character token): empty body.
  if (answer.status === 431) return null;
  let body: { error?: unknown; message?: unknown } | null = null;
  try {
    body = JSON.parse(answer.text);
  } catch {
    if (answer.status >= 400) return 'error answer is not JSON';
  }
  if (answer.status >= 500) {
    // go-oversync 1f1118f's own answer to a refused bundle, kept for its sessions (documented).
    const rejection = (body as { rejection?: unknown } | null)?.rejection;
    if (answer.status === 500 && body?.error === 'push_session_commit_failed' && typeof rejection === 'object' && rejection !== null)
      return null;
    if (answer.status !== 503 || !RETRYABLE_503.has(String(body?.error)))
      return `5xx that is not a documented retryable 503 (${String(body?.error)})`;
    if (answer.retryAfter === null) return '503 without Retry-After';
  }
  if (answer.status >= 400) {
    if (typeof body?.error !== 'string' || typeof body.message !== 'string') return 'error answer is not the {error, message} envelope';
    if (body.message.length > 1100) return `message of ${body.message.length} characters`;
    if (DATABASE_TEXT.test(answer.text)) return 'database or stack text in the answer';
  }
  return null;
}

async function consistency(): Promise<{ logged: number; stored: number; live: number; business: number }> {
  const r = await h.database.query<{ logged: string; stored: string; live: string; business: string }>(
    `SELECT (SELECT coalesce(sum(row_count), 0) FROM sync.bundle_log)::text AS logged,
            (SELECT count(*) FROM sync.bundle_rows)::text AS stored,
            (SELECT count(*) FROM sync.row_state WHERE NOT deleted)::text AS live,
            ((SELECT count(*) FROM business.users) + (SELECT count(*) FROM business.projects)
             + (SELECT count(*) FROM business.tasks) + (SELECT count(*) FROM business.tags))::text AS business`,
  );
  const row = r.rows[0]!;
  return { logged: Number(row.logged), stored: Number(row.stored), live: Number(row.live), business: Number(row.business) };
}

it(
  `${CASES} generated hostile inputs: no 5xx but retryable 503s, no database text, no partial commit, bounded RSS`,
  { timeout: Math.max(60_000, CASES * 200) },
  async () => {
    console.log(`seeded fuzz: seed ${SEED}, ${CASES} cases (OVERSQLITE_FUZZ_SEED=${SEED} reproduces)`);
    const devices = Array.from({ length: DEVICES }, (_, i) => {
      const user = `fuzz-user-${i % 2}`;
      return { rng: new Rng(SEED + i), dev: newFuzzDevice(user, `fuzz-device-${i}`, h.tokenFor(user), i >= 2) };
    });
    for (const { dev } of devices)
      expect(
        (
          await send({
            method: 'POST',
            path: '/sync/connect',
            body: '{"has_local_pending_rows":false}',
            sourceId: dev.sourceId,
            token: dev.token,
          })
        ).status,
      ).toBe(200);

    const failures: string[] = [];
    const tally = new Map<string, number>();
    let requests = 0;
    let skipped = 0;
    const rss: number[] = [];
    const started = Date.now();
    let done = 0;
    while (done < CASES) {
      const round = await Promise.all(
        devices.map(async ({ rng, dev }) => {
          const guarded = async (request: FuzzRequest): Promise<FuzzAnswer> => {
            if (request.sourceId !== null && !sendableHeader(request.sourceId)) {
              skipped++;
              return { status: 0, text: '', retryAfter: null };
            }
            return send(request);
          };
          return runFuzzCase(rng, dev, guarded, HARNESS_JWT_SECRET);
        }),
      );
      done += round.length;
      for (const result of round as FuzzCaseResult[]) {
        for (const { request, answer } of result.exchanges) {
          if (answer.status === 0) continue;
          requests++;
          let code = '';
          try {
            code = answer.status >= 400 ? String(JSON.parse(answer.text).error) : '';
          } catch {
            code = '';
          }
          const key = `${result.name} ${answer.status}${code ? ` ${code}` : ''}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
          const problem = answerProblem(answer);
          if (problem)
            failures.push(`${problem}: ${request.method} ${request.path.slice(0, 120)} → ${answer.status} ${answer.text.slice(0, 300)}`);
        }
      }
      const c = await consistency();
      if (c.logged !== c.stored) failures.push(`after case ${done}: bundle_log counts ${c.logged} rows, bundle_rows holds ${c.stored}`);
      if (c.live !== c.business) failures.push(`after case ${done}: ${c.live} live row versions, ${c.business} business rows`);
      if (done % 200 === 0) rss.push(process.memoryUsage().rss);
      if (failures.length > 20) break;
    }
    const health = await fetch(`${h.baseUrl}/syncx/health`);
    expect(health.status).toBe(200);
    const final = await consistency();
    const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
    console.log(
      `seeded fuzz: seed ${SEED}: ${done} cases, ${requests} requests (${skipped} unsendable headers skipped) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${final.logged} committed rows, ${final.business} business rows; RSS MiB every 200 cases: ${rss.map(mib).join(' ')}`,
    );
    // The answer mix of a long run (`npm run fuzz`); npm test keeps its output short.
    if (CASES > 1000)
      console.log(
        `answers: ${[...tally.entries()]
          .sort()
          .map(([k, v]) => `${k}×${v}`)
          .join(', ')}`,
      );
    expect(failures).toEqual([]);
    // The vitest worker and the server share the process: 1.5 GiB is far above what a run uses
    // (see docs/server.md) and catches unbounded growth.
    expect(Math.max(...rss, process.memoryUsage().rss)).toBeLessThan(1.5 * 1024 * 1024 * 1024);
  },
);
