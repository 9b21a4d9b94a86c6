/**
 * `oversqlite/vue`: Vue 3 composables. Provide an opened database to the app (`app.use(createOversqlite(db))`
 * or `provideDatabase(db)` in a parent's setup), then read it with live composables whose refs
 * change when the rows change (a write in any tab, a sync).
 *
 * ```ts
 * const { rows, loading, error } = useQuery<{ id: string; title: string }>('SELECT id, title FROM todo WHERE done = ?', () => [showDone.value ? 1 : 0]);
 * ```
 * Vue is an optional peer dependency of oversqlite: only apps that import this entry need it.
 * @packageDocumentation
 */
import { getCurrentScope, inject, onScopeDispose, provide, shallowRef, toRaw, toValue, watch } from 'vue';
import type { App, InjectionKey, MaybeRefOrGetter, Plugin, Ref, ShallowRef } from 'vue';
import type { Database } from '../database.ts';
import { OversqliteError } from '../../worker/database/errors.ts';
import type { Row, SqlParams } from '../../worker/database/types.ts';
import type { SyncStatus } from '../../worker/engine/types.ts';
import { LiveQueryStore } from '../live-state/live-query-store.ts';
import type { LiveQueryState } from '../live-state/live-query-store.ts';
import { resolveLiveSource } from '../live-state/query-source.ts';
import type { DrizzleLikeQuery, KyselyLikeQuery, LiveQueryObject, LiveSource, RowOf } from '../live-state/query-source.ts';

export type { LiveQueryState, DrizzleLikeQuery, KyselyLikeQuery, LiveQueryObject, RowOf };

const DATABASE: InjectionKey<Database> = Symbol('oversqlite database');

/** A Vue plugin that provides `database` to every component of the app. */
export function createOversqlite(database: Database): Plugin {
  return {
    install: (app: App) => {
      app.provide(DATABASE, database);
    },
  };
}

/** Provides `database` to the descendants of the component whose setup calls it. */
export function provideDatabase(database: Database): void {
  provide(DATABASE, database);
}

/**
 * The provided database.
 * @throws OversqliteError `invalid_argument` when none was provided.
 */
export function useDatabase(): Database {
  const database = inject(DATABASE, null);
  if (database === null) {
    throw new OversqliteError(
      'invalid_argument',
      'useDatabase() and the oversqlite composables need app.use(createOversqlite(db)) or provideDatabase(db) in a parent component.',
    );
  }
  return database;
}

/**
 * Parameters held in a `ref` are reactive proxies, which cannot be posted to the worker: a plain
 * copy (its values are SQL values, which Vue does not wrap) is.
 */
function plainParams(params: SqlParams | undefined): SqlParams | undefined {
  if (params === undefined || params === null) return undefined;
  const raw = toRaw(params);
  return Array.isArray(raw) ? [...raw] : { ...raw };
}

/** The refs of a live query. */
export interface QueryRefs<T> {
  /** The latest rows; a new array only when the result changed (unchanged rows keep their objects). Keeps the previous result while a changed query loads. */
  readonly rows: Readonly<ShallowRef<readonly T[]>>;
  /** True until the current query's first result (or error). */
  readonly loading: Readonly<Ref<boolean>>;
  /** The latest failure, or null. */
  readonly error: Readonly<ShallowRef<OversqliteError | null>>;
}

/**
 * A live query as refs. `query` and `params` may be refs or getters: when their value changes,
 * the old query closes and the new one runs. Accepts SQL with parameters, or a Kysely or Drizzle
 * query object (or a getter returning one), whose row type it takes. The query closes with the
 * component (or effect scope) that called it.
 */
export function useQuery<T = Row>(sql: MaybeRefOrGetter<string>, params?: MaybeRefOrGetter<SqlParams | undefined>): QueryRefs<T>;
export function useQuery<Q extends LiveQueryObject>(query: MaybeRefOrGetter<Q>): QueryRefs<RowOf<Q>>;
export function useQuery<T>(
  query: MaybeRefOrGetter<string | LiveQueryObject>,
  params?: MaybeRefOrGetter<SqlParams | undefined>,
): QueryRefs<T> {
  return watchQuery<T>(useDatabase(), query, params);
}

/** {@link useQuery} on an explicit database (no provide/inject). */
export function watchQuery<T = Row>(
  database: Database,
  query: MaybeRefOrGetter<string | LiveQueryObject>,
  params?: MaybeRefOrGetter<SqlParams | undefined>,
): QueryRefs<T> {
  const rows = shallowRef<readonly T[]>([]);
  const loading = shallowRef(true);
  const error = shallowRef<OversqliteError | null>(null);
  let unsubscribe: (() => void) | null = null;
  let current: LiveSource<T> | null = null;
  const resolve = (): LiveSource<T> | OversqliteError => {
    try {
      return resolveLiveSource<T>(toRaw(toValue(query)), plainParams(toValue(params)));
    } catch (e) {
      return e instanceof OversqliteError ? e : new OversqliteError('invalid_argument', String(e));
    }
  };
  const stopWatch = watch(
    () => {
      const source = resolve();
      current = source instanceof OversqliteError ? null : source;
      return source instanceof OversqliteError ? source : source.key;
    },
    (key) => {
      unsubscribe?.();
      unsubscribe = null;
      if (key instanceof OversqliteError || current === null) {
        loading.value = false;
        error.value = key instanceof OversqliteError ? key : null;
        return;
      }
      const store = new LiveQueryStore<T>(database, current);
      const apply = (): void => {
        const state = store.getSnapshot();
        loading.value = state.loading;
        if (!state.loading) {
          rows.value = state.rows;
          error.value = state.error;
        }
      };
      unsubscribe = store.subscribe(apply);
      apply();
    },
    { immediate: true },
  );
  if (getCurrentScope() !== undefined) {
    onScopeDispose(() => {
      stopWatch();
      unsubscribe?.();
      unsubscribe = null;
    });
  }
  return { rows, loading, error };
}

/** The sync status of the provided database as a ref (null without sync or before the first report). */
export function useSyncStatus(): Readonly<ShallowRef<SyncStatus | null>> {
  const database = useDatabase();
  const status = shallowRef<SyncStatus | null>(database.sync.configured ? database.sync.status.get() : null);
  if (!database.sync.configured) return status;
  const unsubscribe = database.sync.status.subscribe((value) => {
    status.value = value;
  });
  if (getCurrentScope() !== undefined)
    onScopeDispose(() => {
      unsubscribe();
    });
  return status;
}
