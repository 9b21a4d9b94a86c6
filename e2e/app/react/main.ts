/**
 * The React bindings' e2e page: the base test page's `window.harness` (open databases, sync) plus
 * `window.reactHarness`, which mounts real React 19 roots using `oversqlite/react` and records
 * every render. It also counts the database's open live queries and sync-status subscriptions
 * (subscription-counter.ts).
 */
import { Component, StrictMode, Suspense, createElement } from 'react';
import type { ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import type { Root } from 'react-dom/client';
import { OversqliteProvider, useQuery, useSuspenseQuery, useSyncStatus } from '../../../src/react/index.ts';
import type { LiveQueryObject, LiveQueryState } from '../../../src/react/index.ts';
import type { Database, Row, SqlParams, SyncStatus } from '../../../src/index.ts';
import '../main.ts';
import { trackSubscriptions } from '../subscription-counter.ts';
import type { SubscriptionCounts } from '../subscription-counter.ts';

/** One render of a mounted query component. */
interface RenderRecord {
  rows: readonly unknown[];
  loading: boolean;
  error: string | null;
}

/** What the React specs can call in the page. */
export interface ReactHarness {
  /** Starts counting live queries and status subscriptions of database `name`. */
  track(name: string): void;
  /** Open live queries and status subscriptions of a tracked database. */
  counts(name: string): SubscriptionCounts;
  /** Mounts a component that renders `useQuery(sql, params)` (in StrictMode unless `strict` is false). */
  mountQuery(name: string, key: string, sql: string, params?: SqlParams, strict?: boolean): void;
  /** Mounts a component that renders `useQuery(query)` for a query object built by `build(db)` (set with `setQueryBuilder`). */
  mountQueryObject(name: string, key: string, builder: string): void;
  /** Mounts `useSuspenseQuery(sql)` under a Suspense boundary (fallback text `loading…`) and an error boundary. */
  mountSuspense(name: string, key: string, sql: string, params?: SqlParams): void;
  /** Mounts a component that renders `useSyncStatus()`. */
  mountStatus(name: string, key: string): void;
  /** Unmounts a mounted root. */
  unmount(key: string): void;
  /** Every render of `key`, in order. */
  renders(key: string): RenderRecord[];
  /** Identity facts over the renders of `key`: for each render after the first, whether `rows` is the previous render's array. */
  sameRowsArray(key: string): boolean[];
  /** Whether row `index` of the last render is the same object as in render `renderIndex`. */
  sameRowObject(key: string, renderIndex: number, index: number): boolean;
  /** Waits until the last render of `key` satisfies `predicateBody` (a function body over `r`, a RenderRecord). */
  waitForRender(key: string, predicateBody: string, timeoutMs?: number): Promise<RenderRecord>;
  /** The text a mounted root shows. */
  text(key: string): string;
  /** Every sync status `useSyncStatus` rendered for `key`. */
  statuses(key: string): Array<SyncStatus | null>;
  /** Registers a named builder of query objects (Drizzle/Kysely pages add theirs). */
  setQueryBuilder(name: string, build: (db: Database) => LiveQueryObject): void;
}

const roots = new Map<string, { root: Root; element: HTMLElement }>();
const renderLogs = new Map<string, RenderRecord[]>();
const statusLogs = new Map<string, Array<SyncStatus | null>>();
const waiters = new Map<string, Array<() => void>>();
const counters = new Map<string, SubscriptionCounts>();
const builders = new Map<string, (db: Database) => LiveQueryObject>();

function record(key: string, state: LiveQueryState<unknown>): void {
  const log = renderLogs.get(key) ?? [];
  renderLogs.set(key, log);
  log.push({
    rows: state.rows,
    loading: state.loading,
    error: state.error === null ? null : `${state.error.code}: ${state.error.message}`,
  });
  queueMicrotask(() => {
    for (const w of (waiters.get(key) ?? []).splice(0)) w();
  });
}

function QueryView(props: { keyName: string; sql: string; params?: SqlParams }): ReactNode {
  const state = useQuery<Row>(props.sql, props.params);
  record(props.keyName, state);
  return createElement(
    'ul',
    null,
    state.rows.map((row, i) => createElement('li', { key: i }, JSON.stringify(row))),
  );
}

function QueryObjectView(props: { keyName: string; query: LiveQueryObject }): ReactNode {
  const state = useQuery(props.query) as LiveQueryState<unknown>;
  record(props.keyName, state);
  return createElement(
    'ul',
    null,
    state.rows.map((row, i) => createElement('li', { key: i }, JSON.stringify(row))),
  );
}

function SuspenseView(props: { keyName: string; sql: string; params?: SqlParams }): ReactNode {
  const rows = useSuspenseQuery<Row>(props.sql, props.params);
  record(props.keyName, { rows, loading: false, error: null });
  return createElement(
    'ul',
    null,
    rows.map((row, i) => createElement('li', { key: i }, JSON.stringify(row))),
  );
}

function StatusView(props: { keyName: string }): ReactNode {
  const status = useSyncStatus();
  const log = statusLogs.get(props.keyName) ?? [];
  statusLogs.set(props.keyName, log);
  log.push(status);
  return createElement('p', null, status === null ? 'no status' : `${status.phase} ${String(status.userId)}`);
}

class ErrorBoundary extends Component<{ children: ReactNode }, { error: string | null }> {
  override state = { error: null as string | null };
  static getDerivedStateFromError(error: unknown): { error: string } {
    const e = error as { code?: string; message?: string };
    return { error: `error ${e.code ?? 'unknown'}: ${e.message ?? String(error)}` };
  }
  override render(): ReactNode {
    return this.state.error ?? this.props.children;
  }
}

function mount(name: string, key: string, child: ReactNode, strict = true): void {
  const element = document.createElement('div');
  element.id = `root-${key}`;
  document.getElementById('roots')!.append(element);
  const root = createRoot(element);
  const tree = createElement(OversqliteProvider, { database: window.harness.db(name) }, child);
  root.render(strict ? createElement(StrictMode, null, tree) : tree);
  roots.set(key, { root, element });
}

const reactHarness: ReactHarness = {
  track(name) {
    counters.set(name, trackSubscriptions(window.harness.db(name)));
  },
  counts(name) {
    const c = counters.get(name);
    if (c === undefined) throw new Error(`database ${name} is not tracked`);
    return { ...c };
  },
  mountQuery(name, key, sql, params, strict = true) {
    mount(name, key, createElement(QueryView, { keyName: key, sql, ...(params ? { params } : {}) }), strict);
  },
  mountQueryObject(name, key, builder) {
    const build = builders.get(builder);
    if (build === undefined) throw new Error(`no query builder ${builder}`);
    mount(name, key, createElement(QueryObjectView, { keyName: key, query: build(window.harness.db(name)) }));
  },
  mountSuspense(name, key, sql, params) {
    mount(
      name,
      key,
      createElement(
        ErrorBoundary,
        null,
        createElement(
          Suspense,
          { fallback: 'loading…' },
          createElement(SuspenseView, { keyName: key, sql, ...(params ? { params } : {}) }),
        ),
      ),
    );
  },
  mountStatus(name, key) {
    mount(name, key, createElement(StatusView, { keyName: key }));
  },
  unmount(key) {
    const entry = roots.get(key);
    if (entry === undefined) throw new Error(`nothing mounted as ${key}`);
    entry.root.unmount();
    entry.element.remove();
    roots.delete(key);
  },
  renders(key) {
    return renderLogs.get(key) ?? [];
  },
  sameRowsArray(key) {
    const log = renderLogs.get(key) ?? [];
    return log.slice(1).map((r, i) => r.rows === log[i]!.rows);
  },
  sameRowObject(key, renderIndex, index) {
    const log = renderLogs.get(key) ?? [];
    return log.at(-1)!.rows[index] === log[renderIndex]!.rows[index];
  },
  async waitForRender(key, predicateBody, timeoutMs = 10_000) {
    const predicate = new Function('r', predicateBody) as (r: RenderRecord) => boolean;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = renderLogs.get(key)?.at(-1);
      if (last !== undefined && predicate(last)) return last;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(
          `${key}: no matching render within ${timeoutMs} ms; last: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        const list = waiters.get(key) ?? [];
        waiters.set(key, list);
        list.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  },
  text(key) {
    return roots.get(key)?.element.textContent ?? '';
  },
  statuses(key) {
    return statusLogs.get(key) ?? [];
  },
  setQueryBuilder(name, build) {
    builders.set(name, build);
  },
};

(globalThis as unknown as { reactHarness: ReactHarness }).reactHarness = reactHarness;
