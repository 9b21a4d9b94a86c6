/**
 * The send of one snapshot chunk alone, old way and new way in one server process (issue 16
 * goal 4): the ~1 MB rows text (made fresh per request from bytes, as pg decodes a DataRow) is
 * either joined into the chunk string and sent as text (old: `Buffer.byteLength` + `res.end(text)`)
 * or written with its head and tail into one Buffer (new: `utf8OfParts` + `res.end(bytes)`).
 * A child process GETs blocks of BLOCK requests, old and new blocks alternating; each request's
 * server CPU is the process's CPU (all threads: GC included) from its arrival to the next one's,
 * the first of each block left out (it carries the other way's deferred GC). Prints medians and `uptime`.
 *
 *   npx tsx bench/probes/chunk-bytes-send-ab.ts [--rows 5000] [--row-bytes 200] [--blocks 60] [--block 10]
 */
import { execSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { utf8OfParts } from '../../server/runtime/serialized-json.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const ROWS = Number(arg('rows', '5000'));
const ROW_BYTES = Number(arg('row-bytes', '200'));
const BLOCKS = Number(arg('blocks', '60'));
const BLOCK = Number(arg('block', '10'));

const row = (i: number): string => {
  const head = `{"schema":"business","table":"items","key":{"id":"${String(i).padStart(36, '0')}"},"row_version":1,"payload":{"t":"`;
  return `${head}${'x'.repeat(Math.max(0, ROW_BYTES - head.length - 3))}"}}`;
};
const rowsBytes = Buffer.from(Array.from({ length: ROWS }, (_, i) => row(i)).join(','));
const head = `{"snapshot_id":"0b8e5c1e-8a4e-4f7a-9f55-2a0f5d7c9e11","snapshot_bundle_seq":1,"rows":[`;
const tail = `],"next_row_ordinal":${ROWS},"byte_count":${rowsBytes.length},"has_more":true}`;

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let last: { mode: string; cpu: number; first: boolean } | null = null;
const perMode = new Map<string, number[]>();
const server = createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  const cpu = cpuNow();
  if (last && !last.first) (perMode.get(last.mode) ?? perMode.set(last.mode, []).get(last.mode)!).push(cpu - last.cpu);
  const mode = url.searchParams.get('mode')!;
  last = { mode, cpu, first: url.searchParams.get('first') === '1' };
  if (mode === 'end') {
    res.end();
    return;
  }
  const rowsText = rowsBytes.toString('utf8');
  if (mode === 'old') {
    const text = `${head}${rowsText}${tail}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } else {
    const bytes = utf8OfParts([head, rowsText, tail]);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.byteLength });
    res.end(bytes);
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const client = `
const sizes = new Set();
for (let b = 0; b < ${BLOCKS}; b++) {
  for (const mode of b % 2 ? ['new', 'old'] : ['old', 'new']) {
    for (let i = 0; i < ${BLOCK}; i++) {
      const res = await fetch('${base}/?mode=' + mode + (i === 0 ? '&first=1' : ''));
      sizes.add((await res.arrayBuffer()).byteLength);
    }
  }
}
await fetch('${base}/?mode=end');
console.log('body sizes ' + [...sizes].join(','));
`;
console.log(`uptime before: ${execSync('uptime').toString().trim()}`);
const child = spawn(process.execPath, ['--input-type=module', '-e', client], { stdio: ['ignore', 'inherit', 'inherit'] });
await new Promise((r) => child.on('exit', r));
server.close();
console.log(`chunk ${head.length + rowsBytes.length + tail.length} bytes, ${ROWS} rows`);
for (const [mode, v] of [...perMode].sort()) {
  const s = [...v].sort((a, b) => a - b);
  const q = (p: number): string => s[Math.floor(p * (s.length - 1))]!.toFixed(2);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  console.log(`${mode} server cpu ms per chunk: median ${q(0.5)} (p25 ${q(0.25)}, p75 ${q(0.75)}), mean ${mean.toFixed(2)}, n ${v.length}`);
}
console.log(`uptime after: ${execSync('uptime').toString().trim()}`);
