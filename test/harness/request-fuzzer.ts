/**
 * A seeded generator of hostile sync requests, built from the wire types: valid request shapes
 * carrying hostile values (NUL, lone surrogates, 10,000-character strings, numbers past int64,
 * deep nesting, SQL-looking text, bad dates and base64…), and mutated shapes (fields dropped,
 * retyped or added, bodies truncated or not JSON, hostile path ids, query parameters, source ids
 * and token subjects). Each case runs against a live server through `send` and returns what came
 * back; `test/server-hostile/seeded-fuzz.test.ts` checks the invariants after every case.
 *
 * Same seed, same cases (the PRNG is mulberry32; cases depend on earlier answers only through the
 * ids the server handed out, which do not steer the generator).
 */
import { createHmac } from 'node:crypto';
import { seededRandom } from './seeded-random.ts';

/** A deterministic PRNG. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** A UUID from the PRNG (so keys repeat across runs of one seed). */
  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

/** One HTTP request of a case. Bodies are JSON text (so lone surrogates and bad JSON survive). */
export interface FuzzRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: string;
  /** Oversync-Source-ID; null: header absent. */
  sourceId: string | null;
  /** Bearer token; null: no Authorization header. */
  token: string | null;
}

/** What came back. */
export interface FuzzAnswer {
  status: number;
  text: string;
  retryAfter: string | null;
}

/** Sends one request (throws only when no HTTP answer came: connection refused/reset). */
export type Send = (request: FuzzRequest) => Promise<FuzzAnswer>;

/** One generated case: its name (for the failure report) and the answers it got. */
export interface FuzzCaseResult {
  name: string;
  exchanges: Array<{ request: FuzzRequest; answer: FuzzAnswer }>;
  /** A commit was attempted (the partial-commit check matters most after those). */
  committed: boolean;
}

const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '  padded  ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\n',
  'line\r\nforged 200 user=admin',
  'é',
  '😀',
  '\u2028',
  '\u0085',
  "'; DROP TABLE business.tags; --",
  '%',
  '%ZZ',
  '../../etc/passwd',
  '\\',
  '"',
  'null',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '9223372036854775808',
  '-9223372036854775809',
  '0x10',
  '2024-13-45T99:00:00Z',
  'not a date',
  '1970-01-01T00:00:00Z',
  '!!!not base64',
  'AAAA',
];

/** A string from the hostile pool, or a long/huge one now and then. */
export function hostileString(rng: Rng): string {
  const r = rng.next();
  if (r < 0.04) return 'x'.repeat(10_000);
  if (r < 0.05) return '\u00e9'.repeat(3000);
  if (r < 0.06) return rng.uuid();
  return rng.pick(HOSTILE_STRINGS);
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Any JSON value as text, hostile more often than not. */
export function hostileJsonText(rng: Rng, depth = 0): string {
  const r = rng.next();
  if (r < 0.35) return JSON.stringify(hostileString(rng)).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  if (r < 0.5) return rng.pick(['0', '-1', '1.5', '1e308', '-0', '9007199254740993', '123456789012345678901234567890', '1e-400']);
  if (r < 0.58) return rng.pick(['true', 'false', 'null']);
  if (r < 0.62) return nested(rng.pick([65, 200, 10_000]));
  if (r < 0.75 && depth < 3) return `[${Array.from({ length: rng.int(4) }, () => hostileJsonText(rng, depth + 1)).join(',')}]`;
  if (depth < 3)
    return `{${Array.from({ length: rng.int(4) }, () => `${JSON.stringify(hostileString(rng)).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}:${hostileJsonText(rng, depth + 1)}`).join(',')}}`;
  return '{}';
}

/** Column value generators of the sample schema: mostly valid, sometimes hostile. */
type ValueGen = (rng: Rng, refs: { users: string[]; projects: string[] }) => unknown;

const valid: Record<string, ValueGen> = {
  uuid: (rng) => rng.uuid(),
  text: (rng) => rng.pick(['alpha', 'beta', 'ünïcödé', '😀 emoji', 'a"quote', "it's"]),
  bool: (rng) => rng.pick([true, false, '0', '1']),
  int8: (rng) => String(rng.int(1_000_000) - 500_000),
  int4: (rng) => String(rng.int(1000)),
  float8: (rng) => rng.pick(['1.5', '0', '-2.25', '1e+21', '0.1']),
  numeric: (rng) => rng.pick(['12.50', '0', '-3.25', '9999999999.99']),
  timestamptz: (rng) => rng.pick(['2024-01-02T03:04:05Z', '2024-06-30T23:59:59.123Z', '1999-12-31T00:00:00+02:00']),
  bytea: (rng) => rng.pick(['AAEC', '', 'aGVsbG8=']),
  jsonb: (rng) => rng.pick([{ a: 1 }, [1, 'x'], 'text', null, { nested: { deep: [true] } }]),
};

const NUMBER_KINDS = new Set(['int8', 'int4', 'float8', 'numeric']);

interface TableShape {
  table: string;
  key: string;
  keyKind: 'uuid' | 'text';
  columns: Record<string, keyof typeof valid | 'owner' | 'project'>;
}

const TABLES: TableShape[] = [
  { table: 'users', key: 'id', keyKind: 'uuid', columns: { name: 'text', email: 'text', created_at: 'timestamptz' } },
  { table: 'projects', key: 'id', keyKind: 'uuid', columns: { owner_id: 'owner', title: 'text', budget: 'numeric', archived: 'bool' } },
  {
    table: 'tasks',
    key: 'id',
    keyKind: 'uuid',
    columns: {
      project_id: 'project',
      title: 'text',
      done: 'bool',
      priority: 'int8',
      estimate_hours: 'float8',
      attachment: 'bytea',
      due_at: 'timestamptz',
    },
  },
  { table: 'tags', key: 'name', keyKind: 'text', columns: { color: 'text', weight: 'int4', meta: 'jsonb' } },
];

/** Per-device state the generator keeps between cases. */
export interface FuzzDevice {
  user: string;
  sourceId: string;
  token: string;
  nextBundleId: number;
  /** Speaks the go-oversync 1f1118f dialect (no canonical_request_hash, JSON numbers). */
  numbers: boolean;
  pushId: string | null;
  snapshotId: string | null;
  users: string[];
  projects: string[];
}

/** Mints an HS256 token whose claims are exactly `claimsJson`. */
export function mintToken(secret: string, claimsJson: string): string {
  const head = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
  const body = Buffer.from(claimsJson).toString('base64url');
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

function rowText(rng: Rng, dev: FuzzDevice, hostileRate: number, table?: string): { text: string; table: string; key: string } {
  const shape = table ? TABLES.find((t) => t.table === table)! : rng.pick(TABLES);
  // Most rows carry one hostile value at most, so that bundles also commit and the commit path
  // (and its rejections) is exercised, not only chunk validation.
  const hostileColumn = rng.chance(hostileRate) ? rng.pick(Object.keys(shape.columns)) : null;
  const key =
    shape.keyKind === 'uuid'
      ? rng.chance(0.2) && shape.table === 'users' && dev.users.length
        ? rng.pick(dev.users)
        : rng.uuid()
      : rng.pick(['red', 'green', 'blue', 'tag-' + rng.int(50)]);
  const members: string[] = [`${JSON.stringify(shape.key)}:${JSON.stringify(key)}`];
  for (const [column, kind] of Object.entries(shape.columns)) {
    if (rng.chance(0.05)) continue; // left out
    let value: string;
    if (column === hostileColumn) value = hostileJsonText(rng);
    else if (kind === 'owner') value = JSON.stringify(dev.users.length && rng.chance(0.9) ? rng.pick(dev.users) : rng.uuid());
    else if (kind === 'project') value = JSON.stringify(dev.projects.length && rng.chance(0.9) ? rng.pick(dev.projects) : rng.uuid());
    else {
      const v = valid[kind]!(rng, dev);
      // go-oversync 1f1118f sessions carry INTEGER/REAL values as JSON numbers.
      value = dev.numbers && NUMBER_KINDS.has(kind) && typeof v === 'string' ? String(Number(v)) : JSON.stringify(v);
    }
    members.push(`${JSON.stringify(column)}:${value}`);
  }
  if (rng.chance(0.01)) members.push(`${JSON.stringify(hostileString(rng).slice(0, 100))}:1`); // unknown column
  const op = rng.chance(0.9) ? 'INSERT' : rng.pick(['UPDATE', 'DELETE', 'insert', 'UPSERT']);
  const base = rng.chance(0.95) ? 0 : rng.pick([1, -1, 2 ** 60, 0.5]);
  const keyJson = rng.chance(0.02) ? hostileJsonText(rng) : JSON.stringify(key);
  const payload = op === 'DELETE' ? '' : `,"payload":{${members.join(',')}}`;
  const text = `{"schema":"business","table":${JSON.stringify(rng.chance(0.01) ? hostileString(rng) : shape.table)},"key":{${JSON.stringify(shape.key)}:${keyJson}},"op":${JSON.stringify(op)},"base_row_version":${base}${payload}}`;
  if (shape.table === 'users' && op === 'INSERT') dev.users.push(key);
  if (shape.table === 'projects' && op === 'INSERT') dev.projects.push(key);
  if (dev.users.length > 50) dev.users.splice(0, 25);
  if (dev.projects.length > 50) dev.projects.splice(0, 25);
  return { text, table: shape.table, key };
}

/** Mutates a JSON body text: truncated, not JSON, wrapped, a field retyped. */
function mutateBody(rng: Rng, text: string): string {
  switch (rng.int(6)) {
    case 0:
      return text.slice(0, rng.int(Math.max(1, text.length)));
    case 1:
      return rng.pick(['', 'null', '[]', '"x"', '{', 'not json', '{"a":1}{"b":2}', '\u0000']);
    case 2:
      return `[${text}]`;
    case 3:
      return text.replace(/:(\d+)/, `:${hostileJsonText(rng)}`);
    case 4:
      return text.replace(/"[a-z_]+":/, `${JSON.stringify(hostileString(rng).slice(0, 64)).replace(/[\ud800-\udfff]/g, '?')}:`);
    default:
      return text.replace(/\{/, `{"extra_field":${hostileJsonText(rng)},`);
  }
}

function hostilePathId(rng: Rng): string {
  return rng.pick([
    '%',
    '%ZZ',
    '%E0%A4%A',
    '..',
    'x'.repeat(5000),
    encodeURIComponent('\u0000'),
    '%F0%9F%98',
    '00000000-0000-0000-0000-000000000000',
    'not-a-uuid',
    encodeURIComponent(hostileString(rng).replace(/[\ud800-\udfff]/g, '?')),
  ]);
}

function hostileQueryValue(rng: Rng): string {
  return rng.pick(['-1', '0', '1e99', 'abc', '', '99999999999999999999', '1.5', '%00', String(rng.int(20))]);
}

/**
 * Generates and runs case number `index` for `dev`. `secret` signs tokens with hostile subjects.
 * The device's state (push/snapshot ids, known parent keys) advances with the answers.
 */
export async function runFuzzCase(rng: Rng, dev: FuzzDevice, send: Send, secret: string): Promise<FuzzCaseResult> {
  const exchanges: FuzzCaseResult['exchanges'] = [];
  const go = async (request: FuzzRequest): Promise<FuzzAnswer> => {
    const answer = await send(request);
    exchanges.push({ request, answer });
    return answer;
  };
  const req = (method: FuzzRequest['method'], path: string, body?: string): FuzzRequest => ({
    method,
    path,
    body,
    sourceId: dev.sourceId,
    token: dev.token,
  });
  const json = (a: FuzzAnswer): Record<string, unknown> | null => {
    try {
      return JSON.parse(a.text) as Record<string, unknown>;
    } catch {
      return null;
    }
  };
  const kind = rng.int(100);
  let name: string;
  let committed = false;
  if (kind < 40) {
    // A whole push: create, one or two chunks of mostly valid rows with hostile values, commit.
    name = 'push';
    // Half the bundles write a user, a project of it and a task of that (references resolve).
    const chain = rng.chance(0.5) ? ['users', 'projects', 'tasks'].map((t) => rowText(rng, dev, 0.05, t)) : [];
    const rows = [...chain, ...Array.from({ length: rng.int(rng.chance(0.1) ? 300 : 6) }, () => rowText(rng, dev, 0.08))];
    if (rows.length === 0) rows.push(rowText(rng, dev, 0.2, 'tags'));
    const hash = dev.numbers ? '' : `,"canonical_request_hash":"${'a'.repeat(64)}"`;
    const created = await go(
      req('POST', '/sync/push-sessions', `{"source_bundle_id":${dev.nextBundleId},"planned_row_count":${rows.length}${hash}}`),
    );
    const createdBody = json(created);
    if (created.status === 200 && createdBody?.status === 'staging') {
      const pushId = String(createdBody.push_id);
      const split = rows.length > 1 && rng.chance(0.3) ? 1 + rng.int(rows.length - 1) : rows.length;
      let ok = true;
      for (const [start, part] of [
        [0, rows.slice(0, split)],
        [split, rows.slice(split)],
      ] as const) {
        if (part.length === 0) continue;
        let body = `{"start_row_ordinal":${start},"rows":[${part.map((r) => r.text).join(',')}]}`;
        if (rng.chance(0.05)) body = mutateBody(rng, body);
        const chunk = await go(req('POST', `/sync/push-sessions/${pushId}/chunks`, body));
        if (chunk.status !== 200) ok = false;
      }
      if (ok || rng.chance(0.3)) {
        committed = true;
        const commit = await go(req('POST', `/sync/push-sessions/${pushId}/commit`));
        if (commit.status === 200) dev.nextBundleId++;
        else if (rng.chance(0.5)) await go(req('DELETE', `/sync/push-sessions/${pushId}`));
      } else {
        dev.pushId = pushId;
      }
    } else if (createdBody?.status === 'already_committed') {
      dev.nextBundleId++;
    } else if (
      createdBody?.error === 'source_retired' &&
      typeof createdBody.replaced_by_source_id === 'string' &&
      createdBody.replaced_by_source_id !== ''
    ) {
      // Rotated by an earlier snapshot case: continue as the replacement, as a client would.
      dev.sourceId = createdBody.replaced_by_source_id;
      dev.nextBundleId = 1;
    }
  } else if (kind < 50) {
    name = 'push-create-mutated';
    let body = `{"source_bundle_id":${rng.chance(0.5) ? dev.nextBundleId : hostileJsonText(rng)},"planned_row_count":${rng.chance(0.5) ? 1 + rng.int(10) : hostileJsonText(rng)}}`;
    if (rng.chance(0.5)) body = mutateBody(rng, body);
    const a = await go(req('POST', '/sync/push-sessions', body));
    const b = json(a);
    if (a.status === 200 && b?.status === 'staging') dev.pushId = String(b.push_id);
  } else if (kind < 58) {
    name = 'chunk-or-commit-hostile-id';
    const id = dev.pushId && rng.chance(0.5) ? dev.pushId : hostilePathId(rng);
    if (rng.chance(0.5))
      await go(
        req(
          'POST',
          `/sync/push-sessions/${id}/chunks`,
          `{"start_row_ordinal":${hostileJsonText(rng)},"rows":[${rowText(rng, dev, 0.5).text}]}`,
        ),
      );
    else
      await go(
        req(rng.pick(['POST', 'DELETE'] as const), rng.chance(0.5) ? `/sync/push-sessions/${id}/commit` : `/sync/push-sessions/${id}`),
      );
  } else if (kind < 68) {
    name = 'pull';
    await go(
      req(
        'GET',
        `/sync/pull?after_bundle_seq=${rng.chance(0.6) ? rng.int(5) : hostileQueryValue(rng)}&max_bundles=${rng.chance(0.6) ? 1 + rng.int(100) : hostileQueryValue(rng)}${rng.chance(0.2) ? `&target_bundle_seq=${hostileQueryValue(rng)}` : ''}`,
      ),
    );
  } else if (kind < 73) {
    name = 'committed-rows';
    await go(
      req(
        'GET',
        `/sync/committed-bundles/${rng.chance(0.6) ? 1 + rng.int(5) : hostilePathId(rng)}/rows?after_row_ordinal=${hostileQueryValue(rng)}&max_rows=${hostileQueryValue(rng)}`,
      ),
    );
  } else if (kind < 81) {
    name = 'snapshot';
    if (dev.snapshotId && rng.chance(0.5)) {
      await go(
        req(
          'GET',
          `/sync/snapshot-sessions/${dev.snapshotId}?after_row_ordinal=${rng.chance(0.7) ? 0 : hostileQueryValue(rng)}&max_rows=${rng.chance(0.7) ? 100 : hostileQueryValue(rng)}`,
        ),
      );
      if (rng.chance(0.6)) {
        await go(req('DELETE', `/sync/snapshot-sessions/${dev.snapshotId}`));
        dev.snapshotId = null;
      }
    } else {
      // A rotation to a new source id (plain, hostile, or not a string at all).
      const next = rng.chance(0.5) ? `fuzz-rotated-${rng.int(1e9)}` : rng.chance(0.5) ? hostileString(rng) : null;
      const nextJson =
        next === null
          ? hostileJsonText(rng)
          : JSON.stringify(next).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
      const body = rng.chance(0.6)
        ? undefined
        : `{"source_replacement":{"previous_source_id":${JSON.stringify(dev.sourceId)},"new_source_id":${nextJson},"reason":${JSON.stringify(rng.pick(['history_pruned', 'history_pruned', 'nope', '']))}}}`;
      const a = await go(req('POST', '/sync/snapshot-sessions', body));
      const b = json(a);
      if (a.status === 200 && body !== undefined && next !== null) {
        // The old source is retired: continue as the new one, from bundle 1.
        dev.sourceId = next;
        dev.nextBundleId = 1;
        dev.pushId = null;
      }
      if (a.status === 200 && typeof b?.snapshot_id === 'string') {
        if (dev.snapshotId) await go(req('DELETE', `/sync/snapshot-sessions/${dev.snapshotId}`));
        dev.snapshotId = b.snapshot_id;
      }
      if (rng.chance(0.2)) await go(req('GET', `/sync/snapshot-sessions/${hostilePathId(rng)}`));
    }
  } else if (kind < 86) {
    name = 'connect';
    let body = `{"has_local_pending_rows":${rng.chance(0.7) ? 'false' : hostileJsonText(rng)}}`;
    if (rng.chance(0.3)) body = mutateBody(rng, body);
    await go(req('POST', '/sync/connect', body));
  } else if (kind < 92) {
    name = 'hostile-source-id';
    const sourceId = hostileString(rng);
    await go({ ...req('POST', '/sync/connect', '{"has_local_pending_rows":false}'), sourceId });
  } else if (kind < 97) {
    name = 'hostile-subject';
    const now = Math.floor(Date.now() / 1000);
    const sub = JSON.stringify(hostileString(rng)).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
    const claims = rng.chance(0.8)
      ? `{"sub":${sub},"iat":${now},"exp":${now + 600}}`
      : rng.pick([`{"sub":"x"}`, `{"sub":${hostileJsonText(rng)},"exp":${now + 600}}`, `{"exp":${now + 600}}`, '[]']);
    await go({ ...req('GET', '/sync/pull?after_bundle_seq=0'), token: mintToken(secret, claims) });
  } else {
    name = 'wrong-route-or-method';
    await go(
      req(
        rng.pick(['GET', 'POST', 'DELETE'] as const),
        rng.pick(['/sync/push-sessions', '/sync/pull', '/sync/nope', `/sync/${hostilePathId(rng)}`, '/syncx/health', '/sync/capabilities']),
        rng.chance(0.5) ? hostileJsonText(rng) : undefined,
      ),
    );
  }
  return { name, exchanges, committed };
}

/** A fresh fuzz device for `user`. */
export function newFuzzDevice(user: string, sourceId: string, token: string, numbers = false): FuzzDevice {
  return { user, sourceId, token, nextBundleId: 1, numbers, pushId: null, snapshotId: null, users: [], projects: [] };
}
