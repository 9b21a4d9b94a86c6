/**
 * `oversqlite/react`: React 19 bindings. Put an opened database in an {@link OversqliteProvider},
 * then read it with live hooks that re-render when the rows change (a write in any tab, a sync).
 *
 * ```ts
 * const db = await openDatabase({ name: 'app', schema });
 * createRoot(el).render(createElement(OversqliteProvider, { database: db }, createElement(App)));
 * function App() {
 *   const { rows, loading, error } = useQuery<{ id: string; title: string }>('SELECT id, title FROM todo');
 *   ...
 * }
 * ```
 * React is an optional peer dependency of oversqlite: only apps that import this entry need it.
 * @packageDocumentation
 */
import { createContext, createElement, use, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';
import type { ReactNode } from 'react';
import type { Database } from '../database.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { Row, SqlParams } from '../../worker/database/types.ts';
import type { SyncStatus } from '../../worker/engine/types.ts';
import { LiveQueryStore } from '../live-state/live-query-store.ts';
import type { LiveQueryState } from '../live-state/live-query-store.ts';
import { resolveLiveSource } from '../live-state/query-source.ts';
import type { DrizzleLikeQuery, KyselyLikeQuery, LiveQueryObject, RowOf } from '../live-state/query-source.ts';

export type { LiveQueryState, DrizzleLikeQuery, KyselyLikeQuery, LiveQueryObject, RowOf };

const DatabaseContext = createContext<Database | null>(null);

/** Props of {@link OversqliteProvider}. */
export interface OversqliteProviderProps {
  /** The opened database the hooks below read. */
  readonly database: Database;
  readonly children?: ReactNode;
}

/** Makes `database` available to {@link useDatabase}, {@link useQuery} and {@link useSyncStatus} below it. */
export function OversqliteProvider(props: OversqliteProviderProps): ReactNode {
  return createElement(DatabaseContext.Provider, { value: props.database }, props.children);
}

/**
 * The database of the nearest {@link OversqliteProvider}.
 * @throws OversqliteError `invalid_argument` when there is no provider above the component.
 */
export function useDatabase(): Database {
  const database = useContext(DatabaseContext);
  if (database === null) {
    throw new OversqliteError(
      'invalid_argument',
      'useDatabase() and the oversqlite hooks need an <OversqliteProvider database={db}> above this component.',
    );
  }
  return database;
}

/**
 * A live query: `{ rows, loading, error }`, re-rendering whenever a commit in any tab or a sync
 * changes the result, and not when a re-run returns equal rows (the same `rows` array comes back,
 * and unchanged rows keep their objects). Accepts SQL with parameters, or a Kysely or Drizzle
 * query object, whose row type it takes. The query closes when the component unmounts.
 */
export function useQuery<T = Row>(sql: string, params?: SqlParams): LiveQueryState<T>;
export function useQuery<Q extends LiveQueryObject>(query: Q): LiveQueryState<RowOf<Q>>;
export function useQuery<T>(query: string | LiveQueryObject, params?: SqlParams): LiveQueryState<T> {
  const database = useDatabase();
  const source = resolveLiveSource<T>(query, params);
  // A new store only when the query text or a parameter value changed, not on every render.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const store = useMemo(() => new LiveQueryStore<T>(database, source), [database, source.key]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** Stores that Suspense rendered but whose component has not mounted yet, by query key. */
const suspenseStores = new WeakMap<Database, Map<string, LiveQueryStore<unknown>>>();

/**
 * {@link useQuery} for Suspense: suspends until the first result (so `rows` is always the real
 * result) and throws a failure to the nearest error boundary. Stays live after that.
 */
export function useSuspenseQuery<T = Row>(sql: string, params?: SqlParams): readonly T[];
export function useSuspenseQuery<Q extends LiveQueryObject>(query: Q): readonly RowOf<Q>[];
export function useSuspenseQuery<T>(query: string | LiveQueryObject, params?: SqlParams): readonly T[] {
  const database = useDatabase();
  const source = resolveLiveSource<T>(query, params);
  let stores = suspenseStores.get(database);
  if (stores === undefined) suspenseStores.set(database, (stores = new Map()));
  // A suspended render leaves no state behind, so the store that fetched must be found again by key.
  let store = stores.get(source.key) as LiveQueryStore<T> | undefined;
  if (store === undefined) {
    store = new LiveQueryStore<T>(database, source);
    stores.set(source.key, store as LiveQueryStore<unknown>);
  }
  const current = store;
  const cache = stores;
  const subscribe = useCallback(
    (listener: () => void) => {
      const unsubscribe = current.subscribe(listener);
      return () => {
        unsubscribe();
        // Forget it once no mounted component uses it (a later render fetches afresh).
        if (current.idle && cache.get(current.key) === current) cache.delete(current.key);
      };
    },
    [current, cache],
  );
  const state = useSyncExternalStore(subscribe, current.getSnapshot, current.getSnapshot);
  if (state.loading) use(current.settled());
  if (state.error !== null) throw state.error;
  return state.rows;
}

const noSubscription = (): (() => void) => () => {};
const noStatus = (): null => null;

/** The sync status of the provider's database (null without sync or before the first report), re-rendering on each change. */
export function useSyncStatus(): SyncStatus | null {
  const database = useDatabase();
  const status = database.sync.configured ? database.sync.status : null;
  const subscribe = useCallback((listener: () => void) => status?.subscribe(listener) ?? noSubscription(), [status]);
  const get = useCallback(() => (status === null ? noStatus() : status.get()), [status]);
  return useSyncExternalStore(subscribe, get, get);
}
