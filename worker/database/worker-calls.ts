/**
 * Calls between the leader tab and its database worker over `postMessage` (structured clone):
 * the tab calls the worker's {@link WorkerService}, and the worker calls the tab's callbacks. A
 * call is `{ id, method, args }`, its answer `{ id, value }` or `{ id, error }`; answers may come
 * in any order. The service answers its failures as values (typed outcomes), so a thrown error
 * only carries its name and message (a callback that threw, e.g. `getToken()`).
 *
 * An object is served at one end of a port and called from the other. A `MessagePort` among a
 * call's arguments is transferred, and the served side receives it as the caller of whatever
 * is served at its other end: that is how the tab hands its callbacks to the worker's `open`.
 */

/** What both ends of a worker link offer (a `Worker`, the worker's global scope, a `MessagePort`). */
export interface CallEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start?(): void;
}

/** The methods of `T` as calls to the other end: same arguments, the result as a promise. */
export type Remote<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]-?: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

interface Call {
  id: number;
  method: string;
  args: unknown[];
}

interface Answer {
  id: number;
  value?: unknown;
  error?: { name: string; message: string };
}

const isPort = (value: unknown): value is MessagePort => typeof MessagePort !== 'undefined' && value instanceof MessagePort;

/** Answers the calls arriving at `endpoint` with the methods of `target`. */
export function serveCalls(endpoint: CallEndpoint, target: object): void {
  endpoint.addEventListener('message', (event) => {
    const call = event.data as Partial<Call> | null;
    if (typeof call?.id !== 'number' || typeof call.method !== 'string' || !Array.isArray(call.args)) return;
    const { id, method, args } = call;
    void (async () => {
      let answer: Answer;
      try {
        const fn = (target as Record<string, unknown>)[method];
        if (typeof fn !== 'function') throw new TypeError(`no method ${method}`);
        answer = {
          id,
          value: await fn.apply(
            target,
            args.map((a) => (isPort(a) ? callsTo(a) : a)),
          ),
        };
      } catch (error) {
        answer = { id, error: { name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) } };
      }
      try {
        endpoint.postMessage(answer, []);
      } catch (error) {
        // The result cannot be cloned: the caller learns why instead of waiting for ever.
        endpoint.postMessage({ id, error: { name: 'DataCloneError', message: String(error) } } satisfies Answer, []);
      }
    })();
  });
  endpoint.start?.();
}

/** Calls the object served at the other end of `endpoint` (see {@link serveCalls}). */
export function callsTo<T extends object>(endpoint: CallEndpoint): Remote<T> {
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  endpoint.addEventListener('message', (event) => {
    const answer = event.data as (Partial<Answer> & { method?: unknown }) | null;
    const pending = typeof answer?.id === 'number' && answer.method === undefined ? waiting.get(answer.id) : undefined;
    if (pending === undefined) return;
    waiting.delete(answer!.id!);
    if (answer!.error) pending.reject(Object.assign(new Error(answer!.error.message), { name: answer!.error.name }));
    else pending.resolve(answer!.value);
  });
  endpoint.start?.();
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      endpoint.postMessage({ id, method, args } satisfies Call, args.filter(isPort));
    });
  // Not a thenable: awaiting the remote itself must not turn into a call.
  return new Proxy({} as Remote<T>, {
    get: (_, method) => (typeof method !== 'string' || method === 'then' ? undefined : (...args: unknown[]) => call(method, args)),
  });
}

/**
 * Serves `target` at one end of a new channel, for handing it to the other side as a call
 * argument: `argument` (the channel's other end, typed as what it stands for) reaches the served
 * side as the caller of `target`'s methods. `close` ends the channel.
 */
export function servedPort<T extends object>(target: T): { argument: T; close(): void } {
  const channel = new MessageChannel();
  serveCalls(channel.port1, target);
  return { argument: channel.port2 as unknown as T, close: () => channel.port1.close() };
}
