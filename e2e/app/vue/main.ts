/**
 * The Vue bindings' e2e page: the base test page's `window.harness` plus `window.vueHarness`, which
 * mounts real Vue 3 apps using `oversqlite/vue` and records every value the composables' refs take.
 */
import { createApp, h, ref, watch } from 'vue';
import type { App } from 'vue';
import { createOversqlite, useQuery, useSyncStatus } from '../../../src/vue/index.ts';
import type { Database, Row, SqlParams, SyncStatus } from '../../../src/index.ts';
import type { LiveQueryObject, QueryRefs } from '../../../src/vue/index.ts';
import '../main.ts';
import { trackSubscriptions } from '../subscription-counter.ts';
import type { SubscriptionCounts } from '../subscription-counter.ts';

/** One value of a mounted query's refs (recorded each time `rows`, `loading` or `error` changed). */
interface RefsRecord {
  rows: readonly unknown[];
  loading: boolean;
  error: string | null;
}

/** What the Vue specs can call in the page. */
export interface VueHarness {
  track(name: string): void;
  counts(name: string): SubscriptionCounts;
  /** Mounts an app whose component calls `useQuery(sql, () => params)`; `setParams` changes the params ref. */
  mountQuery(name: string, key: string, sql: string, params?: SqlParams): void;
  setParams(key: string, params: SqlParams): void;
  /** Mounts an app whose component calls `useQuery(queryObject)` with a builder registered by `setQueryBuilder`. */
  mountQueryObject(name: string, key: string, builder: string): void;
  /** Registers a named builder of query objects (the query-builders page adds Drizzle and Kysely ones). */
  setQueryBuilder(name: string, build: (db: Database) => LiveQueryObject): void;
  mountStatus(name: string, key: string): void;
  unmount(key: string): void;
  records(key: string): RefsRecord[];
  /** How many times the component re-rendered. */
  renderCount(key: string): number;
  waitForRecord(key: string, predicateBody: string, timeoutMs?: number): Promise<RefsRecord>;
  text(key: string): string;
  statuses(key: string): Array<SyncStatus | null>;
}

const apps = new Map<string, { app: App; element: HTMLElement }>();
const logs = new Map<string, RefsRecord[]>();
const renderCounts = new Map<string, number>();
const paramRefs = new Map<string, { value: SqlParams | undefined }>();
const statusLogs = new Map<string, Array<SyncStatus | null>>();
const waiters = new Map<string, Array<() => void>>();
const counters = new Map<string, SubscriptionCounts>();
const builders = new Map<string, (db: Database) => LiveQueryObject>();

function recordRefs(key: string, refs: QueryRefs<unknown>): void {
  const log: RefsRecord[] = [];
  logs.set(key, log);
  watch(
    [refs.rows, refs.loading, refs.error],
    () => {
      log.push({
        rows: refs.rows.value,
        loading: refs.loading.value,
        error: refs.error.value === null ? null : `${refs.error.value.code}: ${refs.error.value.message}`,
      });
      for (const w of (waiters.get(key) ?? []).splice(0)) w();
    },
    { immediate: true, flush: 'sync' },
  );
}

function mount(name: string, key: string, component: Parameters<typeof createApp>[0]): void {
  const element = document.createElement('div');
  element.id = `root-${key}`;
  document.getElementById('roots')!.append(element);
  const app = createApp(component);
  app.use(createOversqlite(window.harness.db(name)));
  app.mount(element);
  apps.set(key, { app, element });
}

const vueHarness: VueHarness = {
  track(name) {
    counters.set(name, trackSubscriptions(window.harness.db(name)));
  },
  counts(name) {
    const c = counters.get(name);
    if (c === undefined) throw new Error(`database ${name} is not tracked`);
    return { ...c };
  },
  mountQuery(name, key, sql, params) {
    const paramsRef = ref<SqlParams | undefined>(params);
    paramRefs.set(key, paramsRef);
    mount(name, key, {
      setup() {
        const { rows, loading, error } = useQuery<Row>(sql, () => paramsRef.value);
        const log: RefsRecord[] = [];
        logs.set(key, log);
        watch(
          [rows, loading, error],
          () => {
            log.push({
              rows: rows.value,
              loading: loading.value,
              error: error.value === null ? null : `${error.value.code}: ${error.value.message}`,
            });
            for (const w of (waiters.get(key) ?? []).splice(0)) w();
          },
          { immediate: true, flush: 'sync' },
        );
        return () => {
          renderCounts.set(key, (renderCounts.get(key) ?? 0) + 1);
          return h(
            'ul',
            rows.value.map((row, i) => h('li', { key: i }, JSON.stringify(row))),
          );
        };
      },
    });
  },
  mountQueryObject(name, key, builder) {
    const build = builders.get(builder);
    if (build === undefined) throw new Error(`no query builder ${builder}`);
    const query = build(window.harness.db(name));
    mount(name, key, {
      setup() {
        const refs = useQuery(query) as QueryRefs<unknown>;
        recordRefs(key, refs);
        return () =>
          h(
            'ul',
            refs.rows.value.map((row, i) => h('li', { key: i }, JSON.stringify(row))),
          );
      },
    });
  },
  setQueryBuilder(name, build) {
    builders.set(name, build);
  },
  setParams(key, params) {
    const r = paramRefs.get(key);
    if (r === undefined) throw new Error(`nothing mounted as ${key}`);
    r.value = params;
  },
  mountStatus(name, key) {
    mount(name, key, {
      setup() {
        const status = useSyncStatus();
        const log: Array<SyncStatus | null> = [];
        statusLogs.set(key, log);
        watch(
          status,
          (s) => {
            log.push(s);
          },
          { immediate: true, flush: 'sync' },
        );
        return () => h('p', status.value === null ? 'no status' : `${status.value.phase} ${String(status.value.userId)}`);
      },
    });
  },
  unmount(key) {
    const entry = apps.get(key);
    if (entry === undefined) throw new Error(`nothing mounted as ${key}`);
    entry.app.unmount();
    entry.element.remove();
    apps.delete(key);
  },
  records(key) {
    return logs.get(key) ?? [];
  },
  renderCount(key) {
    return renderCounts.get(key) ?? 0;
  },
  async waitForRecord(key, predicateBody, timeoutMs = 10_000) {
    const predicate = new Function('r', predicateBody) as (r: RefsRecord) => boolean;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = logs.get(key)?.at(-1);
      if (last !== undefined && predicate(last)) return last;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(
          `${key}: no matching value within ${timeoutMs} ms; last: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`,
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
    return apps.get(key)?.element.textContent ?? '';
  },
  statuses(key) {
    return statusLogs.get(key) ?? [];
  },
};

(globalThis as unknown as { vueHarness: VueHarness }).vueHarness = vueHarness;
