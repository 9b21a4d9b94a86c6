/**
 * Authenticators that look at a request's headers only, registered by the function a host hands
 * to an adapter (`auth.authenticate`), so the Node adapters can call them without building a fetch
 * `Request` first. Any other authenticator gets a `Request` as before.
 */

/** Reads a request header by (case-insensitive) name; null when absent. */
export type HeaderReader = (name: string) => string | null;

/** An authenticator's headers-only form. */
export type HeaderAuthenticate = (header: HeaderReader) => Promise<{ userId: string | null }>;

const forms = new WeakMap<object, HeaderAuthenticate>();

/** Records that `authenticate` decides from the headers alone, as `form` does. */
export function registerHeaderAuthenticate(authenticate: object, form: HeaderAuthenticate): void {
  forms.set(authenticate, form);
}

/** The headers-only form of `authenticate`, or undefined when it needs the whole request. */
export function headerAuthenticateOf(authenticate: object): HeaderAuthenticate | undefined {
  return forms.get(authenticate);
}
