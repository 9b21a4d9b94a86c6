/**
 * Server CPU per HTTP request without database work: `GET /sync/capabilities` with a bearer token
 * (authenticated, answered from memory), sent by 8 keep-alive connections in a loop, against our
 * server (bench group 7's child process) and go-oversync's example server. Prints requests/s and
 * the server process's CPU per request (from /proc, which load disturbs less than wall time).
 *
 *   npx tsx bench/probes/http-request-cost.ts [--requests 20000] [--side both|ours|go]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { locateGoReference, startGoReferenceServer } from '../lib/go-reference-server.ts';
import { startExampleSyncServer } from '../lib/sync-server.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const REQUESTS = Number(arg('requests', '20000'));
const SIDE = arg('side', 'both');
const CONNECTIONS = 8;

/** utime + stime of a process in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function listenerPid(baseUrl: string): number {
  const listen = execFileSync('ss', ['-ltnpH', `sport = :${new URL(baseUrl).port}`], { encoding: 'utf8' });
  return Number(/pid=(\d+)/.exec(listen)?.[1]);
}

async function run(label: string, baseUrl: string, token: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const url = new URL('/sync/capabilities', baseUrl);
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { agent, headers: { authorization: `Bearer ${token}`, 'oversync-source-id': 'probe-source' } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${label}: status ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  const loop = async (n: number) => {
    for (let i = 0; i < n; i++) await once();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, () => loop(200))); // warm-up
  const pid = listenerPid(baseUrl);
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, () => loop(REQUESTS / CONNECTIONS)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(pid) - cpu0;
  console.log(
    `${label}: ${REQUESTS} requests in ${seconds.toFixed(1)} s = ${(REQUESTS / seconds).toFixed(0)}/s; server CPU ${((cpu * 1000) / REQUESTS).toFixed(0)} µs per request`,
  );
  agent.destroy();
}

if (SIDE !== 'go') {
  const ours = await startExampleSyncServer();
  try {
    await run('ours', ours.baseUrl, await ours.tokenFor('probe-user'));
  } finally {
    await ours.close();
  }
}
if (SIDE !== 'ours') {
  const found = await locateGoReference();
  if (found.peerPath === null) throw new Error(found.reason);
  const go = await startGoReferenceServer(found.peerPath);
  try {
    await run('go-oversync', go.baseUrl, await go.tokenFor('probe-user'));
  } finally {
    await go.close();
  }
}
process.exit(0);
