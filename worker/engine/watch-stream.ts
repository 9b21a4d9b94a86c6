/**
 * `GET /sync/watch` over fetch streaming (EventSource cannot send `Authorization` or
 * `Oversync-Source-ID`). Frames per `watch/basic.json`: `event: bundle` + `data: {bundle_seq,...}`
 * wake the engine up to pull; `:` lines are heartbeats; unknown events are ignored; multi-line
 * data is joined with `\n`; a bundle event without a positive `bundle_seq` or with malformed JSON
 * is a stream error (the caller pulls once and reconnects). Lines and events are capped at 1 MiB.
 */
import { openWatch } from './protocol-client.ts';
import type { WatchBundleEvent } from '../../protocol/index.ts';
import { isIntFrom, SyncError } from './errors.ts';
import type { SyncTransport } from './transport.ts';

const MAX_LINE = 1024 * 1024;

/** Incremental SSE parser: feed lines, get bundle events. */
export class WatchFrameParser {
  #event = '';
  #data: string[] = [];
  #dataBytes = 0;

  /** Processes one line (without its line terminator). Returns an event when a frame completes. */
  line(line: string): WatchBundleEvent | null {
    if (line.length > MAX_LINE) throw new SyncError('bad_server_response', 'watch: line longer than 1 MiB');
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') {
      this.#dataBytes += value.length;
      if (this.#dataBytes > MAX_LINE) throw new SyncError('bad_server_response', 'watch: event larger than 1 MiB');
      this.#data.push(value);
    }
    return null;
  }

  #dispatch(): WatchBundleEvent | null {
    const event = this.#event;
    const data = this.#data.join('\n');
    const hadData = this.#data.length > 0;
    this.#event = '';
    this.#data = [];
    this.#dataBytes = 0;
    if (event !== 'bundle' || !hadData) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw new SyncError('bad_server_response', 'watch: bundle event data is not JSON');
    }
    const p = parsed as Partial<WatchBundleEvent> | null;
    if (!p || !isIntFrom(p.bundle_seq, 1)) {
      throw new SyncError('bad_server_response', 'watch: bundle event needs a positive bundle_seq');
    }
    const out: WatchBundleEvent = { bundle_seq: p.bundle_seq };
    if (typeof p.source_id === 'string') out.source_id = p.source_id;
    if (typeof p.source_bundle_id === 'number') out.source_bundle_id = p.source_bundle_id;
    return out;
  }
}

/** Splits a byte stream into lines (LF, CRLF or CR), decoding UTF-8 across chunk boundaries. */
export async function* streamLines(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = body.getReader();
  // Closing must not depend on the fetch implementation tearing the body down on abort.
  const onAbort = (): void => {
    reader.cancel().catch(() => undefined);
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let idx: number;
      while ((idx = buf.search(/\r\n|\n|\r/)) !== -1) {
        if (buf[idx] === '\r' && idx === buf.length - 1) break; // maybe a CRLF split across chunks
        const line = buf.slice(0, idx);
        buf = buf.slice(idx + (buf.startsWith('\r\n', idx) ? 2 : 1));
        yield line;
      }
      if (buf.length > MAX_LINE) throw new SyncError('bad_server_response', 'watch: line longer than 1 MiB');
    }
    buf += decoder.decode();
    if (buf.length) yield buf;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

/**
 * Opens one watch stream and calls `onBundle` for every bundle event until the stream ends
 * (resolves) or fails (rejects). `signal` closes it.
 */
export async function watchOnce(
  transport: SyncTransport,
  afterBundleSeq: number,
  signal: AbortSignal,
  onBundle: (e: WatchBundleEvent) => void,
  onOpen: () => void = () => {},
): Promise<void> {
  const res = await openWatch(transport, afterBundleSeq, signal);
  if (!res.body) throw new SyncError('bad_server_response', 'watch: response has no body');
  onOpen();
  const parser = new WatchFrameParser();
  try {
    for await (const line of streamLines(res.body, signal)) {
      if (signal.aborted) break;
      const e = parser.line(line);
      if (e) onBundle(e);
    }
  } finally {
    try {
      await res.body.cancel();
    } catch {
      // already closed
    }
  }
}
