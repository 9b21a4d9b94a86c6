/** The contract between the framework adapters and a fetch-style sync handler. */

/** Who the request is from, as decided by the host's authentication. `null`: anonymous. */
export interface RequestAuth {
  userId: string | null;
}

/** A framework-neutral handler, e.g. `SyncServer.handle`. */
export type FetchHandler = (request: Request, auth: RequestAuth) => Promise<Response>;

/**
 * The host's authentication: resolves the caller, or throws an `AuthError` (answered with
 * `401 authentication_failed`). `JwtAuth.authenticate` fits.
 */
export type Authenticate = (request: Request) => Promise<RequestAuth>;

/** Options shared by the adapters. */
export interface AdapterOptions {
  /**
   * Called with errors the adapter answers with a generic 500 (a handler or authenticator that
   * threw something other than an `AuthError`) or that broke a response mid-stream.
   * Default: `console.error`.
   */
  onError?: (error: unknown, request: Request) => void;
}
