/**
 * Model-based chaos (see support/chaos-run.ts): seeded runs of 3 Node devices on the FK schema
 * with offline stretches, reloads, concurrent syncs, server-originated writes, injected transport
 * faults and process faults (server process killed mid-commit, tabs closed mid-transaction and
 * mid-pull, leader crashes, PostgreSQL backends terminated); after each run every device must
 * equal PostgreSQL, none may be stuck, and every local write must have reached the server or
 * produced an event.
 * The fixed case first: the interleaving of issue 15 is in `offline-parent-delete-vs-remote-*`.
 * `npm test` runs 3 runs from a fixed seed; `npm run chaos` runs OVERSQLITE_CHAOS_RUNS (1,000 by
 * default) from a random one.
 * Replay one run with the command printed for it (OVERSQLITE_CHAOS_SEED, OVERSQLITE_CHAOS_CONFLICTS;
 * OVERSQLITE_TRACE=1 prints every step; OVERSQLITE_TRACE_DIRTY=1 adds each device's pending rows around its syncs;
 * OVERSQLITE_TRACE_FILE=<path> appends the steps to a file instead, which changes the timing less than console
 * output, and adds the server's bundle history and the divergence at the end).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { World } from '../engine-integration/support/devices.ts';
import { startWorld } from '../engine-integration/support/devices.ts';
import { FK_WORLD } from '../engine-integration/support/fk-schema.ts';
import type { SqlDatabase } from '../../server/database/types.ts';
import { sqlite3 } from '../engine/support/sqlite.ts';
import { runChaos } from './support/chaos-run.ts';
import type { ChaosOutcome } from './support/chaos-run.ts';
import { FkServerProcess } from './support/fk-server-process.ts';

const RUNS = Number(process.env.OVERSQLITE_CHAOS_RUNS ?? 3);
// `npm test` (no OVERSQLITE_CHAOS_RUNS) runs fixed seeds, so a red run is always a regression;
// `npm run chaos` starts from a random seed to find new interleavings.
const FIRST_SEED = Number(
  process.env.OVERSQLITE_CHAOS_SEED ?? (process.env.OVERSQLITE_CHAOS_RUNS ? Math.floor(Math.random() * 2 ** 31) : 20261206),
);
const STEPS = Number(process.env.OVERSQLITE_CHAOS_STEPS ?? 80);
const DEVICES = Number(process.env.OVERSQLITE_CHAOS_DEVICES ?? 3);
const FAULT_RATE = Number(process.env.OVERSQLITE_CHAOS_FAULT_RATE ?? 0.08);
const PROCESS_FAULT_RATE = Number(process.env.OVERSQLITE_CHAOS_PROCESS_FAULT_RATE ?? 0.04);

let world: World;
let killer: SqlDatabase | null = null;
// On PostgreSQL devices talk to the server as a child process (killed mid-commit and restarted);
// on PGlite (one process only) to the in-process server, without server kills.
let serverProcess: FkServerProcess | undefined;
beforeAll(async () => {
  world = await startWorld({ ...FK_WORLD, purpose: 'chaos', watch: { enabled: false } });
  if (world.server.testDatabase.kind === 'postgres') {
    killer = world.server.testDatabase.openAnother();
    serverProcess = await FkServerProcess.start(world.server.testDatabase.connectionString!);
  }
});
afterAll(async () => {
  await serverProcess?.stop();
  await killer?.close();
  await world?.close();
});

/** Terminates every other backend of the test database: the server's pool connections. */
async function killBackends(): Promise<void> {
  await killer?.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
}

it(`${RUNS} seeded chaos runs: no divergence, no stuck device, every local change on the server or reported`, { timeout: 0 }, async () => {
  const bad: ChaosOutcome[] = [];
  const totals = { runs: 0, syncs: 0, failedSyncs: 0, reloads: 0, serverWrites: 0, localWrites: 0, lost: 0, conflicts: 0, selfHeals: 0 };
  const faults: Record<string, number> = {};
  const started = Date.now();
  for (let i = 0; i < RUNS; i++) {
    const seed = (FIRST_SEED + i) >>> 0;
    const forced = process.env.OVERSQLITE_CHAOS_CONFLICTS;
    const conflicts = forced === 'server-wins' || forced === 'client-wins' ? forced : i % 2 === 0 ? 'server-wins' : 'client-wins';
    const out = await runChaos(world, {
      seed,
      devices: DEVICES,
      steps: STEPS,
      faultRate: FAULT_RATE,
      processFaultRate: PROCESS_FAULT_RATE,
      conflicts,
      sqlite3: await sqlite3(),
      ...(killer ? { killBackends } : {}),
      ...(serverProcess ? { serverProcess } : {}),
    });
    totals.runs++;
    for (const k of Object.keys(out.stats) as (keyof ChaosOutcome['stats'])[])
      if (k in totals) totals[k as keyof typeof totals] += out.stats[k];
    for (const [k, v] of Object.entries(out.faults)) faults[k] = (faults[k] ?? 0) + v;
    // A self-heal is the engine's last resort: the run converged, but a sync step failed on data
    // again and again first, which is worth a look; the seed is printed to replay it.
    if (out.stats.selfHeals > 0)
      console.log(
        `chaos seed ${seed} self-healed ${out.stats.selfHeals}x (replay: OVERSQLITE_CHAOS_RUNS=1 OVERSQLITE_CHAOS_SEED=${seed} OVERSQLITE_CHAOS_CONFLICTS=${conflicts} npx vitest run test/chaos/model-based-chaos.test.ts): failures ${JSON.stringify(out.failures)}`,
      );
    if (out.divergent.length || out.stuck.length || out.unaccounted.length || out.leaked.length) {
      bad.push(out);
      console.log(
        `chaos seed ${seed} FAILED (replay: OVERSQLITE_CHAOS_RUNS=1 OVERSQLITE_CHAOS_SEED=${seed} OVERSQLITE_CHAOS_CONFLICTS=${conflicts} npx vitest run test/chaos/model-based-chaos.test.ts):\n` +
          `  divergent ${JSON.stringify(out.divergent)}\n  stuck ${JSON.stringify(out.stuck)}\n` +
          `  local changes neither on the server nor reported ${JSON.stringify(out.unaccounted)}\n  rolled-back writes that leaked ${JSON.stringify(out.leaked)}\n` +
          `  failures ${JSON.stringify(out.failures)}`,
      );
    }
    if (RUNS > 20 && (i + 1) % 50 === 0)
      console.log(`chaos: ${i + 1}/${RUNS} runs, ${bad.length} bad, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  console.log(
    `chaos: first seed ${FIRST_SEED}, ${totals.runs} runs x ${DEVICES} devices x ${STEPS} steps, fault rate ${FAULT_RATE}, process fault rate ${PROCESS_FAULT_RATE}: ` +
      `${bad.length} bad; ${JSON.stringify(totals)}; faults ${JSON.stringify(faults)}; ${Math.round((Date.now() - started) / 1000)} s`,
  );
  expect(bad.map((b) => b.seed)).toEqual([]);
});
