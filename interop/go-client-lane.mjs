// The Go-client lane: go-oversync's own Go SQLite client (interop/go-client/, built against the
// peer's source) against our server (interop/our-server/main.ts: go-oversync's example schema on
// a fresh PostgreSQL database, HS256 JWT). Returns one table row per scenario. With
// OVERSQLITE_INTEROP_REFERENCE=1 the same scenarios also run against go-oversync's own example
// server (interop/go-server/), as the reference for what the built peers do.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { buildGoProgram } from './go-build.mjs';
import { repoRoot } from './peer-location.mjs';

const DIRECTION = 'go-oversync Go client → oversqlite server';
const DIALECT = 'go-oversync 1f1118f';
const RESULT_PREFIX = 'OVERSQLITE_INTEROP_RESULT ';

/** Starts our server; resolves with its URLs and a stop function once it printed its ready line. */
function startOurServer(secret, joinDatabaseUrl) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'interop', 'our-server', 'main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, JWT_SECRET: secret, ...(joinDatabaseUrl ? { OVERSQLITE_INTEROP_JOIN_DATABASE_URL: joinDatabaseUrl } : {}) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve({ ...JSON.parse(line), stop });
      } catch {
        stop().then(() => reject(new Error(`our server printed an unexpected first line: ${line}`)));
      }
    });
    exited.then((code) => reject(new Error(`our server exited (${code}) before it was ready`)));
  });
}

/**
 * Starts go-oversync's own example server (interop/go-server/, the Node lane's) on a fresh
 * database, for the reference run; resolves with its URL, database URL and a stop function.
 */
async function startReferenceServer(peerPath, secret) {
  const built = buildGoProgram({ folder: 'go-server', peerPath });
  const adminUrl = process.env.OVERSQLITE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `oversqlite_interop_ref_${randomBytes(4).toString('hex')}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const databaseUrl = u.toString();
  const child = spawn(built.binary, ['-addr', '127.0.0.1:0', '-db', databaseUrl, '-secret', secret], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await admin(`drop database if exists "${name}" with (force)`);
  };
  try {
    const url = await new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (line.startsWith('LISTENING ')) resolve(`http://${line.slice('LISTENING '.length).trim()}`);
      });
      exited.then((code) => reject(new Error(`go-oversync's example server exited (${code}) before listening`)));
    });
    return { url, databaseUrl, database: name, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs the Go binary; resolves with its result lines and exit status. */
function runGoClient(binary, env, args) {
  const child = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const results = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith(RESULT_PREFIX)) {
      const r = JSON.parse(line.slice(RESULT_PREFIX.length));
      results.push(r);
      console.log(`interop: go-client ${r.scenario}: ${r.result} (${r.ms} ms)`);
    } else console.log(line);
  });
  const closed = new Promise((resolve) => lines.once('close', resolve));
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signal));
  });
  return Promise.all([exited, closed]).then(([code]) => ({ results, code }));
}

/**
 * @param {{ peerPath: string, only?: string, reference?: boolean }} options `only`: a regular
 *   expression of scenario names ($OVERSQLITE_INTEROP_ONLY); `reference`: also run them against
 *   go-oversync's own example server, skipping what only ours does ($OVERSQLITE_INTEROP_REFERENCE=1).
 * @returns {Promise<{ scenario: string, direction: string, dialect: string, result: string, detail?: string }[]>}
 */
export async function runGoClientLane({
  peerPath,
  only = process.env.OVERSQLITE_INTEROP_ONLY,
  reference = process.env.OVERSQLITE_INTEROP_REFERENCE === '1',
}) {
  const started = Date.now();
  const built = buildGoProgram({ folder: 'go-client', peerPath });
  console.log(`interop: Go client ${built.cached ? 'cached' : 'built'} in ${built.ms} ms: ${built.binary}`);
  const rows = [];
  const runAgainst = async (server, extraArgs, direction) => {
    try {
      const { results, code } = await runGoClient(
        built.binary,
        {
          OVERSQLITE_SERVER_URL: server.url,
          OVERSQLITE_SERVER_URL_2: server.url2 ?? '',
          OVERSQLITE_DATABASE_URL: server.databaseUrl,
          JWT_SECRET: server.secret,
          OVERSQLITE_REPO_ROOT: repoRoot,
        },
        [...(only ? ['-run', only] : []), ...extraArgs],
      );
      if (results.length === 0) throw new Error(`the Go client reported no scenario (exit ${code})`);
      if (code !== 0 && results.every((r) => r.result === 'pass')) throw new Error(`the Go client exited ${code} after passing scenarios`);
      for (const r of results) {
        rows.push({
          scenario: r.scenario,
          direction: direction ?? r.direction ?? DIRECTION,
          dialect: r.dialect ?? DIALECT,
          result: r.result === 'pass' ? 'pass' : 'FAIL',
          detail: r.detail,
        });
      }
    } finally {
      await server.stop();
    }
  };
  const secret = randomBytes(24).toString('hex');
  const ours = await startOurServer(secret);
  // A second process on the same database (scenario two-server-processes).
  let second;
  try {
    second = await startOurServer(secret, ours.databaseUrl);
  } catch (error) {
    await ours.stop();
    throw error;
  }
  console.log(`interop: our server at ${ours.url} and ${second.url} (database ${ours.database})`);
  const stopBoth = async () => {
    await second.stop();
    await ours.stop();
  };
  await runAgainst({ ...ours, url2: second.url, stop: stopBoth, secret }, [], undefined);
  console.log(`interop: Go-client lane: ${rows.length} scenarios in ${Date.now() - started} ms`);
  if (reference) {
    // The same scenarios against go-oversync's own example server: what the built peers do.
    if (!existsSync(join(repoRoot, 'interop', 'go-server'))) throw new Error('OVERSQLITE_INTEROP_REFERENCE=1 needs interop/go-server/');
    const refSecret = randomBytes(24).toString('hex');
    const ref = await startReferenceServer(peerPath, refSecret);
    console.log(`interop: reference run against go-oversync's example server at ${ref.url}`);
    await runAgainst({ ...ref, secret: refSecret }, ['-reference'], 'go-oversync Go client → go-oversync server (reference)');
  }
  return rows;
}
