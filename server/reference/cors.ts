/**
 * CORS for the reference server: any origin may call it from a browser, with the headers the
 * oversync client sends, and `Retry-After` readable by it (a browser hides every other response
 * header of a cross-origin answer). Set on every response (401s included, so browsers can read them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_HEADERS = 'Authorization, Content-Type, Oversync-Source-ID';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
/** Response headers the client reads beyond the CORS-safelisted ones: the wait of a 429/503. */
const EXPOSED_HEADERS = 'Retry-After';

/** Adds the CORS headers to `res`. Returns true when the request was a preflight, already answered. */
export function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
  res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  res.setHeader('Access-Control-Max-Age', '600');
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
    res.writeHead(204).end();
    return true;
  }
  return false;
}
