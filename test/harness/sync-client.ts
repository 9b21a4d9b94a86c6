/**
 * A thin raw-protocol client for server tests: one method per endpoint, returning status, parsed
 * JSON body and headers, never throwing on HTTP errors (tests assert them).
 */
import type { PushRow } from '../../protocol/wire.ts';

/** A raw HTTP answer. */
export interface RawResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Raw protocol calls as one (user, source). */
export class RawSyncClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null,
    readonly sourceId: string | null,
  ) {}

  /** Same user, another source. */
  withSource(sourceId: string | null): RawSyncClient {
    return new RawSyncClient(this.baseUrl, this.token, sourceId);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    if (this.sourceId !== null) h['Oversync-Source-ID'] = this.sourceId;
    return h;
  }

  async request<T = any>(method: string, path: string, body?: unknown, rawBody?: string): Promise<RawResponse<T>> {
    const init: RequestInit = {
      method,
      headers: this.headers(body !== undefined || rawBody !== undefined ? { 'Content-Type': 'application/json' } : {}),
    };
    if (rawBody !== undefined) init.body = rawBody;
    else if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${this.baseUrl}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  capabilities() {
    return this.request('GET', '/sync/capabilities');
  }
  connect(hasLocalPendingRows: boolean) {
    return this.request('POST', '/sync/connect', { has_local_pending_rows: hasLocalPendingRows });
  }
  createPush(sourceBundleId: number, plannedRowCount: number, extra: Record<string, unknown> = {}) {
    return this.request('POST', '/sync/push-sessions', { source_bundle_id: sourceBundleId, planned_row_count: plannedRowCount, ...extra });
  }
  chunk(pushId: string, startRowOrdinal: number, rows: readonly PushRow[] | readonly unknown[]) {
    return this.request('POST', `/sync/push-sessions/${pushId}/chunks`, { start_row_ordinal: startRowOrdinal, rows });
  }
  /** One-request push (our extension): create with all rows and `commit: true`. */
  pushInOneRequest(sourceBundleId: number, rows: readonly PushRow[] | readonly unknown[], extra: Record<string, unknown> = {}) {
    return this.request('POST', '/sync/push-sessions', {
      source_bundle_id: sourceBundleId,
      planned_row_count: rows.length,
      ...extra,
      rows,
      commit: true,
    });
  }
  commit(pushId: string) {
    return this.request('POST', `/sync/push-sessions/${pushId}/commit`);
  }
  deletePush(pushId: string) {
    return this.request('DELETE', `/sync/push-sessions/${pushId}`);
  }
  committedRows(bundleSeq: number | string, query = '') {
    return this.request('GET', `/sync/committed-bundles/${bundleSeq}/rows${query}`);
  }
  pull(query = '') {
    return this.request('GET', `/sync/pull${query}`);
  }
  createSnapshot(body?: unknown) {
    return this.request('POST', '/sync/snapshot-sessions', body);
  }
  snapshotChunk(snapshotId: string, query = '') {
    return this.request('GET', `/sync/snapshot-sessions/${snapshotId}${query}`);
  }
  deleteSnapshot(snapshotId: string) {
    return this.request('DELETE', `/sync/snapshot-sessions/${snapshotId}`);
  }

  /** create → one chunk per `chunkSize` rows → commit; returns the commit answer (or the first failure). */
  async push(
    sourceBundleId: number,
    rows: readonly PushRow[] | readonly Record<string, unknown>[],
    chunkSize = 1000,
    extra: Record<string, unknown> = {},
  ): Promise<RawResponse> {
    const created = await this.createPush(sourceBundleId, rows.length, extra);
    if (created.status !== 200 || created.body.status !== 'staging') return created;
    for (let start = 0; start < rows.length; start += chunkSize) {
      const r = await this.chunk(created.body.push_id, start, rows.slice(start, start + chunkSize));
      if (r.status !== 200) return r;
    }
    return this.commit(created.body.push_id);
  }
}
