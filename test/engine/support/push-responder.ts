/**
 * Push endpoints scripted with real semantics (staging sessions, ordinals, commit producing a
 * committed bundle with the real `bundle_hash`, `already_committed` for a repeated tuple,
 * committed-row paging), so crash/resume tests can drop the engine between any two steps.
 * `crashAfter(step)` makes the server perform the step and then lose the response, like a
 * closed tab or a dropped connection. The real-server tests cover the same paths end to end.
 */
import { bundleHash } from '../../../protocol/index.ts';
import type { BundleRow, PushRow } from '../../../protocol/index.ts';
import type { RecordedRequest, ScriptedServer } from './scripted-server.ts';

export type PushStep = 'create' | 'chunk' | 'commit' | 'rows';

interface Committed {
  seq: number;
  sourceId: string;
  sourceBundleId: number;
  requestHash: string;
  rows: BundleRow[];
  hash: string;
}

export class PushResponder {
  nextSeq = 1;
  readonly committed: Committed[] = [];
  private sessions = new Map<string, { sourceId: string; sbid: number; planned: number; rows: PushRow[]; hash: string }>();
  private crash: PushStep | null = null;
  private ids = 0;
  /** Server-side row versions (for conflict checks). */
  readonly versions = new Map<string, { version: number; deleted: boolean; payload: unknown }>();

  /** Serve the next committed-rows page with altered payloads (its bundle_hash no longer matches). */
  tamperNextRows = false;

  /** Called when a step is served (e.g. to make the app write while the push is in flight). */
  readonly hooks: Partial<Record<PushStep, () => void>> = {};

  private overrides: {
    step: PushStep;
    answer: { status: number; body?: unknown };
    times: number;
    when?: (req: RecordedRequest) => boolean;
  }[] = [];

  /** Answer `step` with `answer` instead of performing it, `times` times (optionally only `when`). */
  override(step: PushStep, answer: { status: number; body?: unknown }, times = 1, when?: (req: RecordedRequest) => boolean): void {
    this.overrides.push({ step, answer, times, when });
  }

  private overridden(step: PushStep, req: RecordedRequest): { status: number; body?: unknown } | null {
    const o = this.overrides.find((x) => x.step === step && x.times > 0 && (!x.when || x.when(req)));
    if (!o) return null;
    o.times--;
    return o.answer;
  }

  /** The next time `step` runs, perform it and then lose the response. */
  crashAfter(step: PushStep): void {
    this.crash = step;
  }

  private maybeCrash(step: PushStep): void {
    const hook = this.hooks[step];
    if (hook) {
      delete this.hooks[step];
      hook();
    }
    if (this.crash === step) {
      this.crash = null;
      throw new TypeError(`connection lost after ${step}`);
    }
  }

  install(server: ScriptedServer): void {
    server.always('POST', '/sync/push-sessions', (req) => this.overridden('create', req) ?? this.create(req));
    server.always('POST', /^\/sync\/push-sessions\/[^/]+\/chunks$/, (req) => this.overridden('chunk', req) ?? this.chunk(req));
    server.always('POST', /^\/sync\/push-sessions\/[^/]+\/commit$/, (req) => this.overridden('commit', req) ?? this.commit(req));
    server.always('DELETE', /^\/sync\/push-sessions\/[^/]+$/, (req) => {
      this.sessions.delete(req.path.split('/')[3]!);
      return { status: 204 };
    });
    server.always('GET', /^\/sync\/committed-bundles\/\d+\/rows$/, (req) => this.overridden('rows', req) ?? this.rows(req));
  }

  private create(req: RecordedRequest) {
    const body = req.body as { source_bundle_id: number; planned_row_count: number; canonical_request_hash: string };
    const sourceId = req.headers['oversync-source-id']!;
    const done = this.committed.find((c) => c.sourceId === sourceId && c.sourceBundleId === body.source_bundle_id);
    if (done) {
      this.maybeCrash('create');
      return {
        status: 200,
        body: {
          status: 'already_committed',
          bundle_seq: done.seq,
          source_id: sourceId,
          source_bundle_id: done.sourceBundleId,
          row_count: done.rows.length,
          bundle_hash: done.hash,
          canonical_request_hash: done.requestHash,
        },
      };
    }
    const expected = this.committed.filter((c) => c.sourceId === sourceId).length + 1;
    if (body.source_bundle_id !== expected) {
      return { status: 409, body: { error: 'source_sequence_out_of_order', message: `expected ${expected}` } };
    }
    const pushId = `push-${++this.ids}`;
    for (const [id, sess] of this.sessions) if (sess.sourceId === sourceId && sess.sbid === body.source_bundle_id) this.sessions.delete(id);
    this.sessions.set(pushId, {
      sourceId,
      sbid: body.source_bundle_id,
      planned: body.planned_row_count,
      rows: [],
      hash: body.canonical_request_hash,
    });
    this.maybeCrash('create');
    // Echoes canonical_request_hash as contract servers do (push/basic-insert.json).
    return {
      status: 200,
      body: {
        status: 'staging',
        push_id: pushId,
        planned_row_count: body.planned_row_count,
        next_expected_row_ordinal: 0,
        canonical_request_hash: body.canonical_request_hash,
      },
    };
  }

  private chunk(req: RecordedRequest) {
    const pushId = req.path.split('/')[3]!;
    const sess = this.sessions.get(pushId);
    if (!sess) return { status: 404, body: { error: 'push_session_not_found', message: 'gone' } };
    const body = req.body as { start_row_ordinal: number; rows: PushRow[] };
    if (body.start_row_ordinal !== sess.rows.length)
      return { status: 409, body: { error: 'push_chunk_out_of_order', message: 'out of order' } };
    sess.rows.push(...body.rows);
    this.maybeCrash('chunk');
    return { status: 200, body: { push_id: pushId, next_expected_row_ordinal: sess.rows.length } };
  }

  private async commit(req: RecordedRequest) {
    const pushId = req.path.split('/')[3]!;
    const sess = this.sessions.get(pushId);
    if (!sess) return { status: 404, body: { error: 'push_session_not_found', message: 'gone' } };
    for (const r of sess.rows) {
      const k = `${r.table}:${JSON.stringify(r.key)}`;
      const cur = this.versions.get(k);
      const ok =
        r.op === 'INSERT'
          ? (!cur && r.base_row_version === 0) || (cur?.deleted === true && cur.version === r.base_row_version)
          : cur && !cur.deleted && cur.version === r.base_row_version;
      if (!ok) {
        return {
          status: 409,
          body: {
            error: 'push_conflict',
            message: 'conflict',
            conflict: {
              schema: r.schema,
              table: r.table,
              key: r.key,
              op: r.op,
              base_row_version: r.base_row_version,
              server_row_version: cur?.version ?? 0,
              server_row_deleted: cur?.deleted ?? false,
              server_row: cur && !cur.deleted ? cur.payload : null,
            },
          },
        };
      }
    }
    const seq = this.nextSeq++;
    const rows: BundleRow[] = sess.rows.map((r) => {
      const out: BundleRow = { schema: r.schema, table: r.table, key: r.key, op: r.op, row_version: seq };
      if (r.op !== 'DELETE') out.payload = r.payload ?? null;
      this.versions.set(`${r.table}:${JSON.stringify(r.key)}`, { version: seq, deleted: r.op === 'DELETE', payload: r.payload ?? null });
      return out;
    });
    const c: Committed = {
      seq,
      sourceId: sess.sourceId,
      sourceBundleId: sess.sbid,
      requestHash: sess.hash,
      rows,
      hash: await bundleHash(rows),
    };
    this.committed.push(c);
    this.sessions.delete(pushId);
    this.maybeCrash('commit');
    return {
      status: 200,
      body: {
        bundle_seq: seq,
        source_id: c.sourceId,
        source_bundle_id: c.sourceBundleId,
        row_count: rows.length,
        bundle_hash: c.hash,
        canonical_request_hash: c.requestHash,
      },
    };
  }

  private rows(req: RecordedRequest) {
    const seq = Number(req.path.split('/')[3]);
    const c = this.committed.find((x) => x.seq === seq);
    if (!c) return { status: 404, body: { error: 'committed_bundle_not_found', message: 'none' } };
    const after = req.query.after_row_ordinal === undefined ? -1 : Number(req.query.after_row_ordinal);
    const max = Number(req.query.max_rows ?? 1000);
    let page = c.rows.slice(after + 1, after + 1 + max);
    if (this.tamperNextRows) {
      this.tamperNextRows = false;
      page = page.map((r) => (r.payload ? { ...r, payload: { ...r.payload, name: 'tampered' } } : r));
    }
    this.maybeCrash('rows');
    return {
      status: 200,
      body: {
        bundle_seq: c.seq,
        source_id: c.sourceId,
        source_bundle_id: c.sourceBundleId,
        row_count: c.rows.length,
        bundle_hash: c.hash,
        rows: page,
        next_row_ordinal: page.length ? after + page.length : Math.max(after, 0),
        has_more: after + 1 + page.length < c.rows.length,
      },
    };
  }
}
