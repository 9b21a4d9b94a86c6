/**
 * The two shapes the sync handler works on, whichever HTTP stack a request came from: what it
 * reads of a request ({@link SyncRequest}) and what it answers ({@link SyncReply}). The fetch
 * `handle` maps a `Request` to the one and the other to a `Response`; the Node adapters map an
 * `IncomingMessage` and a `ServerResponse` straight, without a fetch `Request` (its headers copy,
 * body stream and AbortSignals cost about as much server CPU as a small request's own work).
 */
import { readBoundedText } from './request-body.ts';
import { textResponse } from './response-text.ts';

/** What the sync handler reads of a request. */
export interface SyncRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The path, percent-encoded as sent, without the query. */
  readonly path: string;
  /** The query string without `?` ('' for none). */
  readonly query: string;
  /** A header's value (names are case-insensitive), null when absent. */
  header(name: string): string | null;
  /** The body as UTF-8 text, or null when it is (or says it is) larger than `maxBytes`. Read once. */
  readBody(maxBytes: number): Promise<string | null>;
}

/** What the sync handler answers: a status, headers and a text body, a byte stream, or nothing. */
export interface SyncReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The whole body as text (JSON), sent with its length. */
  readonly text?: string;
  /** The whole body as UTF-8 bytes (JSON written from its parts), sent with its length. */
  readonly bytes?: Uint8Array<ArrayBuffer>;
  /** A body produced over time (the watch stream's server-sent events). */
  readonly stream?: ReadableStream<Uint8Array>;
}

/** The handler's core, before either shape is mapped to a framework. */
export type SyncServe = (request: SyncRequest, auth: { userId: string | null }) => Promise<SyncReply>;

/** A fetch `Request` seen as a {@link SyncRequest}; null when its URL is not absolute. */
export function fetchSyncRequest(request: Request): SyncRequest | null {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return null;
  }
  return {
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    header: (name) => request.headers.get(name),
    readBody: (maxBytes) => readBoundedText(request, maxBytes),
  };
}

/** A {@link SyncReply} as a fetch `Response` (a whole body stays readable by the Node adapters without its stream). */
export function replyToResponse(reply: SyncReply): Response {
  const whole = reply.text ?? reply.bytes;
  if (whole !== undefined) return textResponse(whole, { status: reply.status, headers: reply.headers });
  return new Response(reply.stream ?? null, { status: reply.status, headers: reply.headers });
}

/** The core behind each fetch handle this server created, for adapters that can call it directly. */
const cores = new WeakMap<object, SyncServe>();

/** Records that `handle` is `serve` behind the fetch mapping. */
export function registerSyncServe(handle: object, serve: SyncServe): void {
  cores.set(handle, serve);
}

/** The core of a handle created by `createSyncServer`, or undefined for any other handler. */
export function syncServeOf(handle: object): SyncServe | undefined {
  return cores.get(handle);
}
