#!/usr/bin/env node
// `npm run chaos`: the model-based chaos test (test/chaos/model-based-chaos.test.ts) for
// OVERSQLITE_CHAOS_RUNS seeded runs (1,000 by default) from OVERSQLITE_CHAOS_SEED (random by
// default, printed), split into OVERSQLITE_CHAOS_SHARDS vitest processes (default: one per core,
// at most 4) over consecutive seed ranges: the same runs as one process, in a fraction of the
// time (each run is mostly waiting on its devices, its server process and PostgreSQL). Each
// shard has its own PostgreSQL database and server process. A failing run prints its seed and
// the command that replays it; the exit code is non-zero when any run failed.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const runs = Number(process.env.OVERSQLITE_CHAOS_RUNS ?? 1000);
const shards = Math.max(1, Math.min(runs, Number(process.env.OVERSQLITE_CHAOS_SHARDS ?? Math.min(4, availableParallelism()))));
const first = Number(process.env.OVERSQLITE_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`chaos: ${runs} runs from seed ${first} in ${shards} shard(s)`);

const started = Date.now();
const failedSeeds = [];
// Each shard ends with `chaos: first seed …: N bad; {stats}; faults {faults}; …`: summed here.
const totals = { stats: {}, faults: {} };
const add = (into, from) => {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
};
// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g;
const results = await Promise.all(
  Array.from({ length: shards }, (_, i) => {
    const offset = Math.floor((runs * i) / shards);
    const count = Math.floor((runs * (i + 1)) / shards) - offset;
    const seed = (first + offset) >>> 0;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/chaos/model-based-chaos.test.ts'], {
        env: { ...process.env, OVERSQLITE_CHAOS_RUNS: String(count), OVERSQLITE_CHAOS_SEED: String(seed), NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let buffered = '';
      const onData = (chunk) => {
        buffered += chunk.toString('utf8');
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).replace(ansi, '');
          buffered = buffered.slice(nl + 1);
          const failed = /^chaos seed (\d+) FAILED/.exec(line);
          if (failed) failedSeeds.push(Number(failed[1]));
          const summary = /^chaos: first seed .*? bad; (\{.*?\}); faults (\{.*?\});/.exec(line);
          if (summary) {
            add(totals.stats, JSON.parse(summary[1]));
            add(totals.faults, JSON.parse(summary[2]));
          }
          if (line.trim()) console.log(`[shard ${i}] ${line}`);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => resolve({ shard: i, seed, count, code: code ?? 1 }));
    });
  }),
);
const seconds = Math.round((Date.now() - started) / 1000);
const bad = results.filter((r) => r.code !== 0);
console.log(
  `chaos: ${runs} runs from seed ${first} in ${shards} shard(s), ${seconds} s: ${failedSeeds.length} failed run(s)` +
    (failedSeeds.length ? ` (seeds ${failedSeeds.join(', ')})` : '') +
    (bad.length && !failedSeeds.length ? `; shard(s) ${bad.map((r) => r.shard).join(', ')} exited with an error` : ''),
);
console.log(`chaos totals: ${JSON.stringify(totals.stats)}; faults ${JSON.stringify(totals.faults)}`);
process.exit(bad.length ? 1 : 0);
