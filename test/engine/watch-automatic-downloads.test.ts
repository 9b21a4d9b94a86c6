/**
 * The watch loop, data-driven from `watch/behavior/automatic-downloads.json`, against a scripted
 * server: non-OK setup answers are closed and followed by a fallback pull; malformed streams and
 * clean EOFs reconnect after one pull; a held-open healthy stream suppresses periodic runs; close()
 * cancels an active stream; the reconnect watches from the durable checkpoint; a server without
 * `bundle_change_watch` is polled; a wake-up event pulls the authoritative bundle.
 * Mapping: KMP's worker pulls once when it starts; ours does not (the server's catch-up event
 * covers a stale client), so "heartbeat-does-not-trigger-extra-pull" expects 0 pulls here, and
 * backoff sleeps are driven by the test clock (the first resolves at once, later ones wait until
 * the engine closes) instead of wall time.
 */
import { describe, expect, it } from 'vitest';
import type { EngineClock } from '../../worker/engine/index.ts';
import { loadContract } from '../contracts.ts';
import { attachStartedEmpty, capabilitiesBody, openEngine } from './support/engine.ts';
import { rows } from './support/sqlite.ts';

const fixture = loadContract<{ cases: any[] }>('watch/behavior/automatic-downloads.json');
const SCHEMA = 'CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL)';
const TABLES = [{ table: 'users', syncKey: 'id' }];

function testClock(immediateSleeps: number): EngineClock {
  let left = immediateSleeps;
  return {
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (left-- > 0) return resolve();
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    random: () => 0.5,
  };
}

/** Polls `cond()` every millisecond until it holds (bounded at 5 s). */
async function until(cond: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  if (!cond()) throw new Error(`condition not reached: ${label}`);
}

function stream(lines: string[], hold: boolean, onClose: () => void): Response {
  const text = lines.length ? `${lines.join('\n')}\n` : '';
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        if (text) controller.enqueue(new TextEncoder().encode(text));
        if (!hold) {
          controller.close();
          onClose();
        }
      },
      cancel() {
        onClose();
      },
    }),
    { status: 200, headers: { 'Content-Type': 'text/event-stream' } },
  );
}

describe('automatic downloads with watch (watch/behavior/automatic-downloads.json)', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const script = c.serverScript;
      const exp = c.expectedState;
      const watchSupported = script.kind !== 'unsupported_capability';
      const s = await openEngine(SCHEMA, TABLES, {
        clock: testClock(1),
        autoSync: {
          watch: true,
          debounceMs: 0,
          intervalMs: script.kind === 'unsupported_capability' || script.kind === 'hold_watch_open' ? 20 : 0,
        },
      });
      const bundles: any[] = [];
      const addBundles = (list: any[] = []) =>
        list.forEach((b) => {
          const seq = bundles.length + 1;
          bundles.push({
            bundle_seq: seq,
            source_id: 'remote-source',
            source_bundle_id: seq,
            rows: b.rows.map((r: any) => ({ ...r, row_version: seq })),
          });
        });
      addBundles(script.startBundles);
      addBundles(script.remoteBundles);
      s.server.always('GET', '/sync/pull', (req) => {
        const after = Number(req.query.after_bundle_seq);
        return {
          status: 200,
          body: { stable_bundle_seq: bundles.length, has_more: false, bundles: bundles.filter((b) => b.bundle_seq > after) },
        };
      });
      let closes = 0;
      let watchRequests = 0;
      let held: ReadableStreamDefaultController<Uint8Array> | null = null;
      s.server.always('GET', '/sync/watch', () => {
        watchRequests++;
        switch (script.kind) {
          case 'non_ok_watch_response':
            closes++; // the transport reads the error body to the end
            return script.response;
          case 'watch_lines': {
            const heartbeatsOnly = (script.lines as string[]).every((l) => l === '' || l.startsWith(':'));
            const hold = (heartbeatsOnly && c.name.startsWith('heartbeat')) || watchRequests > 1;
            return stream(watchRequests > 1 ? [] : script.lines, hold, () => closes++);
          }
          default:
            return new Response(
              new ReadableStream<Uint8Array>({
                start(controller) {
                  held = controller;
                },
                cancel() {
                  closes++;
                },
              }),
              { status: 200 },
            );
        }
      });
      s.server.always('GET', '/sync/capabilities', {
        status: 200,
        body: capabilitiesBody('main', TABLES, { bundle_change_watch: watchSupported }),
      });
      await attachStartedEmpty(s, 'user-a', { bundle_change_watch: watchSupported });
      const pulls = () => s.server.requestsTo('GET', '/sync/pull').length;
      const watches = () => s.server.requestsTo('GET', '/sync/watch');

      switch (c.name) {
        case 'non-ok-watch-response-closes-before-fallback':
        case 'malformed-stream-reconnects-and-pulls':
        case 'eof-reconnects-and-pulls':
          await until(() => watches().length >= exp.watchAttemptsAtLeast && pulls() >= exp.fallbackPullsAtLeast, c.name);
          await until(() => rows(s.db, 'SELECT id, name FROM users').length === 1, 'users applied');
          expect(closes).toBeGreaterThanOrEqual(exp.watchCloseCount);
          break;
        case 'heartbeat-does-not-trigger-extra-pull':
          await until(() => watches().length === 1, 'watch open');
          for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
          expect(pulls()).toBe(0);
          expect(watches()).toHaveLength(exp.watchAttemptsExactly);
          break;
        case 'held-open-healthy-stream-suppresses-timer-fallback':
          await until(() => held !== null, 'watch open');
          await new Promise((r) => setTimeout(r, exp.observeForMillis)); // the interval (20 ms) ticks ~7 times meanwhile
          expect(pulls()).toBe(exp.fallbackPullsExactly);
          expect(watches()).toHaveLength(exp.watchAttemptsExactly);
          break;
        case 'stop-cancel-closes-active-watch-worker':
          await until(() => held !== null, 'watch open');
          await s.engine.close();
          await until(() => closes >= 1, 'stream cancelled');
          expect(closes).toBe(1);
          expect(pulls()).toBe(exp.fallbackPullsExactly);
          expect(watches()).toHaveLength(exp.watchAttemptsExactly);
          return;
        case 'reconnect-uses-durable-last-bundle-seq':
          await until(() => watches().length >= exp.watchAttemptsAtLeast, 'reconnected');
          expect(watches().map((r) => Number(r.query.after_bundle_seq))).toEqual(expect.arrayContaining(exp.watchAfterBundleSeqsContains));
          expect(pulls()).toBeGreaterThanOrEqual(exp.fallbackPullsAtLeast);
          break;
        case 'unsupported-server-falls-back-to-polling':
          await until(() => pulls() >= exp.fallbackPullsAtLeast && rows(s.db, 'SELECT id FROM users').length === 1, 'polled');
          expect(watches()).toHaveLength(exp.watchAttemptsExactly);
          break;
        case 'server-originated-write-wakeup-pulls-authoritatively':
          await until(() => held !== null, 'watch open');
          addBundles(script.wakeBundles);
          (held as unknown as ReadableStreamDefaultController<Uint8Array>).enqueue(
            new TextEncoder().encode(
              `event: bundle\ndata: {"bundle_seq":${bundles.length},"source_id":"remote-source","source_bundle_id":1}\n\n`,
            ),
          );
          await until(() => rows(s.db, 'SELECT id FROM users').length === 1, 'woken up');
          expect(pulls()).toBe(exp.fallbackPullsExactly);
          expect(watches().map((r) => Number(r.query.after_bundle_seq))).toEqual(exp.watchAfterBundleSeqsContains);
          break;
        default:
          throw new Error(`unmapped case ${c.name}`);
      }
      if (exp.users) expect(rows(s.db, 'SELECT id, name FROM users ORDER BY id')).toEqual(exp.users);
      await s.engine.close();
    });
  }
});
