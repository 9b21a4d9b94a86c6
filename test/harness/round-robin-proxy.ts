/**
 * A small HTTP load balancer for tests: every request (not every connection) goes to the next
 * backend in turn, so one client's push session can be created on one server process, get its
 * chunks on another and be committed on a third. Responses stream through unbuffered (the watch
 * stream is SSE). A backend that refuses the connection (stopped or restarting) is skipped, as a
 * balancer's health check would; nothing was sent to it, so that is safe for any request. A
 * backend that dies after the request reached it answers `502` (or the client's connection is cut
 * if the response had started), as a real balancer would.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy forwarded: where it went and how it ended. */
export interface ProxiedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  /** Index of the backend that served it (after skipping refused ones), or -1 if none answered. */
  backend: number;
  /** The client's `Oversync-Source-ID` header (empty when absent). */
  sourceId: string;
  /** HTTP status given to the client; 502 when the backend failed. */
  status: number;
}

/** A started proxy. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Every request forwarded so far. */
  readonly log: ProxiedRequest[];
  close(): Promise<void>;
}

/** Starts a proxy on a free port in front of `backends` (`http://host:port` each). */
export async function startRoundRobinProxy(backends: readonly string[]): Promise<RoundRobinProxy> {
  const targets = backends.map((b) => new URL(b));
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const log: ProxiedRequest[] = [];
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0]!,
      backend: -1,
      sourceId: String(req.headers['oversync-source-id'] ?? ''),
      status: 0,
    };
    log.push(entry);
    const first = next++ % targets.length;
    const attempt = (tried: number): void => {
      if (tried === targets.length) {
        entry.status = 502;
        res
          .writeHead(502, { 'content-type': 'application/json' })
          .end('{"error":"bad_gateway","message":"no backend accepted the connection"}');
        return;
      }
      const index = (first + tried) % targets.length;
      const target = targets[index]!;
      let responded = false;
      const upstream = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        },
        (answer) => {
          responded = true;
          entry.backend = index;
          entry.status = answer.statusCode ?? 0;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('error', () => res.destroy());
          answer.on('aborted', () => res.destroy());
        },
      );
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (responded) {
          res.destroy();
          return;
        }
        // Refused: nothing reached that backend. Any other failure may have happened after the
        // backend processed the request, so it is the client's to retry (as behind a real balancer).
        if (error.code === 'ECONNREFUSED') {
          attempt(tried + 1);
          return;
        }
        entry.backend = index;
        entry.status = 502;
        if (!res.headersSent)
          res
            .writeHead(502, { 'content-type': 'application/json' })
            .end(`{"error":"bad_gateway","message":${JSON.stringify(String(error.code ?? error.message))}}`);
        else res.destroy();
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy(); // the client went away (e.g. a watch stream closed)
      });
      upstream.end(body);
    };
    attempt(0);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
