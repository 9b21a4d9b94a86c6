/**
 * Watch SSE frames, data-driven from `watch/basic.json`: `sseCases` through the parser (also
 * split into arbitrary byte chunks through the line splitter), `setupErrorResponses` through the
 * real stream opener. (`capabilitiesCases` are exercised by the watch loop test.)
 */
import { describe, expect, it } from 'vitest';
import { AuthTokenSource } from '../../worker/engine/auth-token.ts';
import { SyncError } from '../../worker/engine/index.ts';
import { SyncTransport } from '../../worker/engine/transport.ts';
import { streamLines, WatchFrameParser, watchOnce } from '../../worker/engine/watch-stream.ts';
import { loadContract } from '../contracts.ts';
import { instantClock } from './support/engine.ts';
import { ScriptedServer } from './support/scripted-server.ts';

const fixture = loadContract<{ capabilitiesCases: any[]; sseCases: any[]; setupErrorResponses: any[] }>('watch/basic.json');

function parseLines(lines: string[]): unknown[] {
  const p = new WatchFrameParser();
  const out: unknown[] = [];
  for (const l of lines) {
    const e = p.line(l);
    if (e) out.push(e);
  }
  return out;
}

describe('watch frames (watch/basic.json sseCases)', () => {
  for (const c of fixture.sseCases) {
    it(c.name, () => {
      if (c.expectError) {
        expect(() => parseLines(c.lines)).toThrow(SyncError);
      } else {
        expect(parseLines(c.lines)).toEqual(c.expectedEvents);
      }
    });
  }

  it('reassembles frames split across byte chunks and CRLF line ends', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    console.log(`watch chunking seed ${seed}`);
    let x = seed;
    const rand = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const text =
      'event: bundle\r\ndata: {"bundle_seq":5,"source_id":"dévice-ü"}\r\n\r\n: heartbeat\n\nevent: bundle\ndata: {"bundle_seq":6}\n\n';
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let i = 0;
        while (i < bytes.length) {
          const n = 1 + Math.floor(rand() * 7);
          controller.enqueue(bytes.slice(i, i + n));
          i += n;
        }
        controller.close();
      },
    });
    const p = new WatchFrameParser();
    const events: unknown[] = [];
    for await (const line of streamLines(stream)) {
      const e = p.line(line);
      if (e) events.push(e);
    }
    expect(events).toEqual([{ bundle_seq: 5, source_id: 'dévice-ü' }, { bundle_seq: 6 }]);
  });
});

describe('watch setup errors (watch/basic.json setupErrorResponses)', () => {
  for (const c of fixture.setupErrorResponses) {
    it(`${c.status} ${c.expectedError}`, async () => {
      const server = new ScriptedServer();
      server.always('GET', '/sync/watch', { status: c.status, body: c.body });
      const clock = instantClock();
      const t = new SyncTransport(server.baseUrl, () => 'src', new AuthTokenSource(async () => 'tok', clock), server.fetch, clock);
      const err = await watchOnce(t, 0, new AbortController().signal, () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SyncError);
      // A 401 is retried once with a fresh token, then reported as auth_required.
      expect((err as SyncError).code).toBe(c.status === 401 ? 'auth_required' : c.expectedError);
      expect(server.requests.length).toBe(c.status === 401 ? 2 : 1); // no transient retries for a stream
    });
  }
});
