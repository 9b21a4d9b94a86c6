/**
 * A device's own road to the sync server: a small HTTP relay on loopback that the test can cut
 * and restore. A cut link accepts no connection and drops the ones it has, as a lost network
 * does, for every request the device makes (page, database worker, service worker alike), which
 * Chromium's offline emulation does not promise (Playwright #2311). The app is pointed at it with
 * the demo's `?server=` override.
 */
import { createServer, request as forward } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A relay to one server that can be cut. */
export interface CuttableLink {
  /** Base URL the app uses instead of the server's. */
  readonly url: string;
  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): void;
  /** Lets connections through again; returns how many were refused while cut. */
  restore(): number;
  /** Stops the relay. */
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port forwarding to `target` (an http:// base URL). */
export async function openCuttableLink(target: string): Promise<CuttableLink> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let isCut = false;
  let refused = 0;

  const relay = (req: IncomingMessage, res: ServerResponse): void => {
    const out = forward(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // The device's side going away (a cut, an aborted fetch) ends the forwarded request too.
    res.on('close', () => out.destroy());
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer(relay);
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    if (isCut) {
      refused++;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      isCut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      isCut = false;
      const count = refused;
      refused = 0;
      return count;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
