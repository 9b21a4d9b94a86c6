/**
 * Reads a `node:http` request: as a fetch `Request` whose body streams from the socket, or as the
 * sync handler's own {@link SyncRequest} (no fetch objects at all).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { SyncRequest } from '../http/sync-exchange.ts';

/** A node request as express and other frameworks extend it (only what the conversion looks at). */
export interface NodeRequestLike extends IncomingMessage {
  /** express: the URL before mounting stripped a prefix. */
  originalUrl?: string;
  /** express: `http` or `https`, honouring `trust proxy`. */
  protocol?: string;
  /** A body parser's result, when one already consumed the stream. */
  body?: unknown;
}

const NO_BODY_METHODS = new Set(['GET', 'HEAD']);

export function fetchHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    // HTTP/2 pseudo-headers (":path") are not valid fetch header names.
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

/**
 * Streams the request body with backpressure: the socket is paused while the handler has not read
 * what is buffered. A handler that never reads the body lets it drain, so keep-alive still works.
 */
function bodyStream(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; discard(): void } {
  let settled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (settled) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        req.once('error', (err) => {
          if (settled) return;
          settled = true;
          controller.error(err);
        });
        req.once('close', () => {
          if (settled) return;
          settled = true;
          controller.error(new Error('The client closed the connection before the request body was complete.'));
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        settled = true;
        req.resume();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  return {
    stream,
    discard() {
      settled = true;
      req.resume();
    },
  };
}

/** A body a parser (e.g. `express.json()`) already read, turned back into bytes. */
function consumedBody(body: unknown): BodyInit | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Uint8Array.from(body);
  return JSON.stringify(body);
}

/** The absolute URL of the request, keeping any mount prefix (express `originalUrl`). */
export function requestUrl(req: NodeRequestLike): URL {
  const encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true;
  const protocol = req.protocol ?? (encrypted ? 'https' : 'http');
  const host = req.headers.host ?? 'localhost';
  return new URL(req.originalUrl ?? req.url ?? '/', `${protocol}://${host}`);
}

/** A fetch `Request` for a node request, and a way to throw away body bytes nobody read. */
export interface ConvertedNodeRequest {
  request: Request;
  /**
   * Drains what is left of the request body once the response is sent, so an unread upload
   * neither stalls the socket nor sits in memory, and the keep-alive connection stays usable.
   */
  discardUnreadBody(): void;
}

/** Builds the fetch `Request` for a node request; `signal` aborts when the client goes away. */
export function convertNodeRequest(req: NodeRequestLike, signal: AbortSignal): ConvertedNodeRequest {
  const method = (req.method ?? 'GET').toUpperCase();
  const init: RequestInit & { duplex?: 'half' } = { method, headers: fetchHeaders(req.headers), signal };
  let discardUnreadBody = (): void => undefined;
  if (!NO_BODY_METHODS.has(method)) {
    if (req.readableEnded) {
      init.body = consumedBody(req.body);
    } else {
      const body = bodyStream(req);
      init.body = body.stream;
      // Required by undici for a streaming request body.
      init.duplex = 'half';
      discardUnreadBody = body.discard;
    }
  }
  return { request: new Request(requestUrl(req), init), discardUnreadBody };
}

/** Builds the fetch `Request` for a node request; `signal` aborts when the client goes away. */
export function toFetchRequest(req: NodeRequestLike, signal: AbortSignal): Request {
  return convertNodeRequest(req, signal).request;
}

/** The text of a body a parser already read (see {@link consumedBody}). */
function consumedText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return JSON.stringify(body);
}

/**
 * Reads the body as UTF-8 text up to `maxBytes` (null beyond, and as soon as a Content-Length
 * says so); what is left unread is drained after the response.
 */
function readNodeBody(req: NodeRequestLike, maxBytes: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) return Promise.resolve(null);
  if (req.readableEnded) {
    const text = consumedText(req.body);
    return Promise.resolve(Buffer.byteLength(text) > maxBytes ? null : text);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.byteLength;
      if (total > maxBytes) {
        done();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, total).toString('utf8'));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(new Error('The client closed the connection before the request body was complete.'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/** A node request as the sync handler reads it, and a way to throw away body bytes nobody read. */
export interface NodeSyncRequest extends SyncRequest {
  /** Drains what is left of the body once the response is sent (as {@link ConvertedNodeRequest}). */
  discardUnreadBody(): void;
}

/** The sync handler's view of `req` at `url` (see {@link requestUrl}). */
export function nodeSyncRequest(req: NodeRequestLike, url: URL): NodeSyncRequest {
  const headers = req.headers;
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    method,
    path: url.pathname,
    query: url.search.slice(1),
    header(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
    readBody: (maxBytes) => readNodeBody(req, maxBytes),
    discardUnreadBody() {
      // A GET or HEAD body nobody reads is dropped by node:http itself.
      if (!req.readableEnded && !NO_BODY_METHODS.has(method)) req.resume();
    },
  };
}
