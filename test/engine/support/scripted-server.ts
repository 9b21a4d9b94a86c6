/**
 * A scripted server at the fetch seam: each test declares the answers for the requests it
 * expects (usually taken from contract fixtures), and every request is recorded. An unexpected
 * request fails loudly. The real-server tests in `test/engine-integration/` cover the same paths.
 */
export interface RecordedRequest {
  method: string;
  url: URL;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  rawBody: string | null;
}

export type Answer = Response | { status: number; body?: unknown; headers?: Record<string, string> };
type Responder = (req: RecordedRequest) => Answer | Promise<Answer>;

interface Route {
  method: string;
  path: string | RegExp;
  respond: Responder;
  times: number; // Infinity = persistent
}

/** JSON response helper. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export class ScriptedServer {
  readonly requests: RecordedRequest[] = [];
  private routes: Route[] = [];

  constructor(readonly baseUrl = 'https://sync.test/api/v1/') {}

  /** Answers `method path` (exact path after the base, or a RegExp) `times` times (default once). */
  on(method: string, path: string | RegExp, respond: Responder | Answer, times = 1): this {
    const fn: Responder = typeof respond === 'function' ? respond : () => respond;
    this.routes.push({ method, path, respond: fn, times });
    return this;
  }

  /** Like `on`, but for every matching request. */
  always(method: string, path: string | RegExp, respond: Responder | Answer): this {
    return this.on(method, path, respond, Infinity);
  }

  /** Requests to a path (after the base path). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = init?.method ?? 'GET';
    const basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    const path = url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) : url.pathname;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const rawBody = typeof init?.body === 'string' ? init.body : null;
    const req: RecordedRequest = {
      method,
      url,
      path,
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
      body: rawBody === null ? null : JSON.parse(rawBody),
      rawBody,
    };
    this.requests.push(req);
    const idx = this.routes.findIndex(
      (r) => r.method === method && r.times > 0 && (typeof r.path === 'string' ? r.path === path : r.path.test(path)),
    );
    if (idx === -1) throw new Error(`unexpected request ${method} ${path}${url.search}`);
    const route = this.routes[idx]!;
    route.times--;
    if (route.times <= 0) this.routes.splice(idx, 1);
    const answer = await route.respond(req);
    if (answer instanceof Response) return answer;
    return json(answer.status, answer.body, answer.headers);
  };
}
