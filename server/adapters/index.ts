/** Adapters that mount a fetch-style sync handler in Node HTTP servers. */
export { toNodeHandler } from './node-http.ts';
export type { NodeRequestListener } from './node-http.ts';
export { expressMiddleware } from './express.ts';
export type { ExpressStyleMiddleware } from './express.ts';
export { toFetchRequest, requestUrl } from './node-request.ts';
export type { NodeRequestLike } from './node-request.ts';
export { sendFetchResponse } from './node-response.ts';
export { authenticateAndHandle } from './dispatch.ts';
export type { AdapterOptions, Authenticate, FetchHandler, RequestAuth } from './types.ts';
