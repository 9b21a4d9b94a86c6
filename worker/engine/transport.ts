/**
 * HTTP transport of the oversync protocol: base URL + `SyncPaths`, `Authorization: Bearer` and
 * `Oversync-Source-ID` on every request, the error envelope turned into a typed `SyncError`,
 * transient retries (429/502/503/504/network) with exponential backoff and jitter, the snapshot
 * capacity retry budget (`snapshot-capacity/retry.json`), and one token refresh + retry on 401.
 */
import { parseJsonExact, SOURCE_ID_HEADER } from '../../protocol/index.ts';
import { AuthTokenSource } from './auth-token.ts';
import { SyncError } from './errors.ts';
import type { EngineClock } from './types.ts';

/** Transient retry policy. */
interface RetryPolicy {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** ± ratio applied to each delay. */
  jitter: number;
}

/** Snapshot capacity retry budget (defaults from the contract fixture). */
interface CapacityRetryPolicy {
  maxWaitMs: number;
  fallbackDelayMs: number;
  positiveJitterRatio: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.2 };
const DEFAULT_CAPACITY_RETRY: CapacityRetryPolicy = { maxWaitMs: 30_000, fallbackDelayMs: 1000, positiveJitterRatio: 1 };
const CAPACITY_CODES = new Set(['snapshot_build_capacity', 'snapshot_chunk_capacity']);
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/** One request. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** JSON body; omitted (no body at all) when undefined. */
  body?: unknown;
  /** A body already serialized as JSON text (sent as is; takes precedence over `body`). */
  rawBody?: string;
  signal?: AbortSignal;
  /** Retry 429/502/503/504/network errors. Default true. */
  retry?: boolean;
}

/** `Retry-After` as milliseconds: a positive whole number of seconds, anything else null. */
export function parseRetryAfter(value: string | null): number | null {
  if (value === null || !/^[1-9]\d*$/.test(value.trim())) return null;
  return Number(value.trim()) * 1000;
}

/** The protocol's HTTP client. */
export class SyncTransport {
  /**
   * Protocol requests (everything but the watch stream) answered successfully so far. The engine
   * compares it before and after a push or pull to know whether that step really exchanged data
   * with the server (`status.lastSyncAt`).
   */
  completedExchanges = 0;

  readonly #baseUrl: string;
  readonly #sourceId: () => string;
  readonly #tokens: AuthTokenSource;
  readonly #fetchFn: typeof fetch;
  readonly #clock: EngineClock;
  readonly #retry: RetryPolicy;
  readonly #capacity: CapacityRetryPolicy;
  readonly #onAuthRequired: (error: SyncError) => void;

  constructor(
    baseUrl: string,
    sourceId: () => string,
    tokens: AuthTokenSource,
    fetchFn: typeof fetch,
    clock: EngineClock,
    retry: RetryPolicy = DEFAULT_RETRY,
    capacity: CapacityRetryPolicy = DEFAULT_CAPACITY_RETRY,
    onAuthRequired: (error: SyncError) => void = () => {},
  ) {
    this.#baseUrl = baseUrl;
    this.#sourceId = sourceId;
    this.#tokens = tokens;
    this.#fetchFn = fetchFn;
    this.#clock = clock;
    this.#retry = retry;
    this.#capacity = capacity;
    this.#onAuthRequired = onAuthRequired;
  }

  /** Full URL of a protocol path (the base URL's own path is preserved). */
  url(path: string, query?: Record<string, string | number | undefined>): string {
    const base = this.#baseUrl.replace(/\/+$/, '');
    const qs = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : '';
    return `${base}${path}${qs ? `?${qs}` : ''}`;
  }

  /**
   * Sends a request and returns the parsed JSON body (null for an empty body). Numbers a double
   * cannot hold exactly come back as `ExactJsonNumber` (a numbers-dialect server's BIGINTs).
   */
  async json<T>(spec: RequestSpec): Promise<T> {
    const { text, status } = await this.text(spec);
    return this.parseBody<T>(spec, text, status);
  }

  /** Sends a request and returns the successful response's body as text, not yet parsed (`parseBody` parses it). */
  async text(spec: RequestSpec): Promise<{ text: string; status: number }> {
    const res = await this.send(spec);
    return { text: await res.text(), status: res.status };
  }

  /**
   * Sends a request and hands its successful response's body to `onText` as it arrives, decoded
   * piece by piece; resolves with the status once it all came. A body cut short is a `network_error`.
   * A response without a body stream (an app's `fetch` may answer with a plain `Response`-like
   * object) is read whole and handed over as one piece.
   */
  async streamText(spec: RequestSpec, onText: (text: string) => void): Promise<number> {
    const res = await this.send(spec);
    try {
      const body = res.body as Response['body'] | undefined;
      if (!body) {
        onText(await res.text());
        return res.status;
      }
      // The body's own reader and a streaming TextDecoder: a TextDecoderStream pipe added ~0.2 ms
      // (Chromium, a one-row page) between the last bytes and the end of the body. A reader, not
      // `for await`: Safari's streams are not async iterable.
      // A piece ending in ASCII with no bytes held decodes whole, the same text: Node's streaming
      // decode took ~8 ms of a 10,000-row page's ~55 ms client CPU, a whole one ~10× less. Past
      // the first bytes, a decoder that keeps a BOM (one there is text, as when streaming).
      const reader = body.getReader();
      const rest = new TextDecoder('utf-8', { ignoreBOM: true });
      let text = new TextDecoder();
      let held = false;
      for (let r; !(r = await reader.read()).done;) {
        const b = r.value;
        if (b.length === 0) continue;
        const ascii = b[b.length - 1]! < 0x80;
        onText(held || !ascii ? text.decode(b, { stream: true }) : text.decode(b));
        if (!(held = !ascii)) text = rest;
      }
      onText(text.decode());
    } catch (e) {
      throw networkError(spec, e);
    }
    return res.status;
  }

  /** A response body `text` parsed as `json` does (and counted as a completed exchange). */
  parseBody<T>(spec: RequestSpec, text: string, status: number): T {
    if (text === '') {
      this.completedExchanges++;
      return null as T;
    }
    try {
      const parsed = parseJsonExact<T>(text);
      this.completedExchanges++;
      return parsed;
    } catch {
      throw new SyncError('bad_server_response', `${spec.method} ${spec.path}: response is not JSON`, status);
    }
  }

  /** Sends a request and returns the successful raw response (used for the watch stream). */
  async send(spec: RequestSpec): Promise<Response> {
    const started = this.#clock.now();
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        return await this.#sendWithAuth(spec);
      } catch (e) {
        if (!(e instanceof SyncError) || spec.retry === false || spec.signal?.aborted) throw e;
        if (CAPACITY_CODES.has(e.code)) {
          const wait =
            (parseRetryAfter(retryAfterOf(e)) ?? this.#capacity.fallbackDelayMs) *
            (1 + this.#clock.random() * this.#capacity.positiveJitterRatio);
          if (this.#clock.now() - started + wait > this.#capacity.maxWaitMs) throw e;
          await this.#clock.sleep(wait, spec.signal);
          attempt = 0;
          continue;
        }
        const transient = e.code === 'network_error' || (e.status !== undefined && TRANSIENT_STATUS.has(e.status));
        if (!transient || attempt >= this.#retry.attempts) {
          if (transient) throw new SyncError(e.code, `${e.message} (gave up after ${attempt} attempts)`, e.status, e.detail);
          throw e;
        }
        const base = Math.min(this.#retry.maxDelayMs, this.#retry.initialDelayMs * 2 ** (attempt - 1));
        const retryAfter = parseRetryAfter(retryAfterOf(e));
        const delay =
          retryAfter !== null
            ? Math.min(retryAfter, this.#retry.maxDelayMs * 4)
            : base * (1 + (this.#clock.random() * 2 - 1) * this.#retry.jitter);
        await this.#clock.sleep(delay, spec.signal);
      }
    }
  }

  async #sendWithAuth(spec: RequestSpec): Promise<Response> {
    // With a token in memory the request is handed to fetch synchronously, within the caller's
    // call: what the caller does right after (the push hashes its rows for the answer) then
    // overlaps the request instead of delaying it behind an await.
    let token = this.#tokens.cached() ?? (await this.#tokens.current());
    let res = await this.#sendOnce(spec, token);
    if (res.status === 401) {
      await res.text().catch(() => undefined); // only to release the connection
      token = await this.#tokens.refresh();
      res = await this.#sendOnce(spec, token);
      if (res.status === 401) {
        const err = await errorFrom(spec, res);
        const authErr = new SyncError('auth_required', `${err.message} (still 401 after a token refresh; sign in again)`, 401, err.detail);
        this.#onAuthRequired(authErr);
        throw authErr;
      }
    }
    if (!res.ok) throw await errorFrom(spec, res);
    return res;
  }

  async #sendOnce(spec: RequestSpec, token: string): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      [SOURCE_ID_HEADER]: this.#sourceId(),
      Accept: spec.path.endsWith('/watch') ? 'text/event-stream' : 'application/json',
    };
    const init: RequestInit = { method: spec.method, headers };
    if (spec.rawBody !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = spec.rawBody;
    } else if (spec.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(spec.body);
    }
    if (spec.signal) init.signal = spec.signal;
    try {
      return await this.#fetchFn(this.url(spec.path, spec.query), init);
    } catch (e) {
      if (spec.signal?.aborted) throw new SyncError('aborted', `${spec.method} ${spec.path} aborted`);
      throw networkError(spec, e);
    }
  }
}

function networkError(spec: RequestSpec, e: unknown): SyncError {
  return new SyncError('network_error', `${spec.method} ${spec.path}: ${e instanceof Error ? e.message : String(e)}`);
}

function retryAfterOf(e: SyncError): string | null {
  const d = e.detail as { retryAfter?: string | null } | undefined;
  return d?.retryAfter ?? null;
}

/** Builds the typed error of a non-2xx response from its envelope (or its status). */
async function errorFrom(spec: RequestSpec, res: Response): Promise<SyncError> {
  const text = await res.text().catch(() => '');
  let body: Record<string, unknown> | null = null;
  try {
    // Exact numbers here too: a push_conflict's server_row may carry a BIGINT beyond 2^53.
    const parsed = parseJsonExact<unknown>(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the text itself is the message
  }
  const retryAfter = res.headers.get('Retry-After');
  const code =
    body && typeof body.error === 'string' && body.error !== ''
      ? body.error
      : res.status === 401
        ? 'authentication_failed'
        : res.status === 503
          ? 'service_unavailable'
          : `http_${res.status}`;
  const message = body && typeof body.message === 'string' ? body.message : text.slice(0, 200) || res.statusText || `HTTP ${res.status}`;
  return new SyncError(code, `${spec.method} ${spec.path}: ${message}`, res.status, { ...(body ?? {}), retryAfter });
}
