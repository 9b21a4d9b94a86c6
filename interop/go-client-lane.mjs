// The Go-client lane: go-oversync's own Go SQLite client (interop/go-client/, built against the
// peer's source) against our server (interop/our-server/main.ts: go-oversync's example schema on
// a fresh PostgreSQL database, HS256 JWT). Returns one table row per scenario.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { buildGoProgram } from './go-build.mjs';
import { repoRoot } from './peer-location.mjs';

const DIRECTION = 'go-oversync Go client → oversqlite server';
const DIALECT = 'go-oversync 1f1118f';
const RESULT_PREFIX = 'OVERSQLITE_INTEROP_RESULT ';

/** Starts our server; resolves with its URLs and a stop function once it printed its ready line. */
function startOurServer(secret) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'interop', 'our-server', 'main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, JWT_SECRET: secret },
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
 * @param {{ peerPath: string, only?: string }} options `only`: a regular expression of scenario names.
 * @returns {Promise<{ scenario: string, direction: string, dialect: string, result: string, detail?: string }[]>}
 */
export async function runGoClientLane({ peerPath, only = process.env.OVERSQLITE_INTEROP_ONLY }) {
  const started = Date.now();
  const built = buildGoProgram({ folder: 'go-client', peerPath });
  console.log(`interop: Go client ${built.cached ? 'cached' : 'built'} in ${built.ms} ms: ${built.binary}`);
  const secret = randomBytes(24).toString('hex');
  const server = await startOurServer(secret);
  console.log(`interop: our server at ${server.url} (database ${server.database})`);
  try {
    const { results, code } = await runGoClient(
      built.binary,
      { OVERSQLITE_SERVER_URL: server.url, OVERSQLITE_DATABASE_URL: server.databaseUrl, JWT_SECRET: secret, OVERSQLITE_REPO_ROOT: repoRoot },
      only ? ['-run', only] : [],
    );
    if (results.length === 0) throw new Error(`the Go client reported no scenario (exit ${code})`);
    if (code !== 0 && results.every((r) => r.result === 'pass')) throw new Error(`the Go client exited ${code} after passing scenarios`);
    console.log(`interop: Go-client lane: ${results.length} scenarios in ${Date.now() - started} ms`);
    return results.map((r) => ({ scenario: r.scenario, direction: r.direction ?? DIRECTION, dialect: r.dialect ?? DIALECT, result: r.result === 'pass' ? 'pass' : 'FAIL', detail: r.detail }));
  } finally {
    await server.stop();
  }
}
