/**
 * Every value family of the example schema through go-oversync's server, exactly: text with
 * `& < >` U+2028 U+2029 (Go escapes them in its hash material), integers at ±(2^53 - 1), reals that
 * need 17 digits, 0/1 flags, NULLs, BLOBs and BLOB keys, timestamps with nanoseconds (PostgreSQL
 * keeps microseconds: the replay compares the instant at that precision and moves on).
 * Beyond that go-oversync's bundles round through float64 (2^53 + 1 becomes 2^53), so:
 * - our push of such an integer is refused before upload (`value_not_representable`, naming table,
 *   key, column), the change stays pending;
 * - a BIGINT another client stored exactly comes to a hydrating device exactly (the snapshot row,
 *   with no BYTEA value to rewrite, is PostgreSQL's text; `JSON.parse` would have rounded it), while
 *   a pull of the rounded bundle row is refused with the same typed error and applies nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GoPeer } from './support/go-peer.ts';
import { blobUuid, localRows, peerAvailability, startGoPeer, uuid } from './support/go-peer.ts';

const { peerPath } = await peerAvailability();
const TEXT = 'a & <b> \u2028 \u2029 "q" \\ é 😀';

describe.skipIf(!peerPath)('every value family through go-oversync', () => {
  let peer: GoPeer;
  beforeAll(async () => {
    peer = await startGoPeer(peerPath!);
  });
  afterAll(() => peer?.close());

  it('pushes, hydrates and pulls every family exactly', async () => {
    const a = await peer.device('vera');
    await a.engine.attach('vera');
    a.db.transaction(() => {
      a.db.exec({
        sql: `INSERT INTO typed_rows(id, name, note, count_value, enabled_flag, rating, data, created_at) VALUES
          ('${uuid(1)}', ?, NULL, 9007199254740991, 1, 0.1 + 0.2, x'00ff7f80', '2026-01-02T03:04:05.123456789Z'),
          ('${uuid(2)}', '', 'n', -9007199254740991, 0, -1e-7, NULL, '2026-01-02T03:04:05+02:00'),
          ('${uuid(3)}', 'nulls', NULL, NULL, 0, NULL, NULL, NULL)`,
        bind: [TEXT],
      });
      a.db.exec({ sql: `INSERT INTO files(id, name, data) VALUES (${blobUuid(9)}, ?, x'')`, bind: [TEXT] });
      a.db.exec({ sql: `INSERT INTO file_reviews(id, review, file_id) VALUES (${blobUuid(10)}, ?, ${blobUuid(9)})`, bind: [TEXT] });
    });
    expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 5 });
    // Proved by its bundle_hash in go-oversync's material (escaped text, float64 numbers, the
    // timestamps as PostgreSQL renders them): nothing downloaded back.
    expect(a.requests.filter((r) => r.includes('/committed-bundles/'))).toEqual([]);
    expect(a.engine.status.pendingCount).toBe(0);

    expect(
      await peer.pgRows(
        'typed_rows',
        'vera',
        "name, note, count_value::text, enabled_flag::text, rating, encode(data, 'hex') AS data, created_at::text",
      ),
    ).toEqual([
      {
        name: TEXT,
        note: null,
        count_value: '9007199254740991',
        enabled_flag: '1',
        rating: 0.30000000000000004,
        data: '00ff7f80',
        created_at: '2026-01-02 03:04:05.123457+00',
      },
      {
        name: '',
        note: 'n',
        count_value: '-9007199254740991',
        enabled_flag: '0',
        rating: -1e-7,
        data: null,
        created_at: '2026-01-02 01:04:05+00',
      },
      { name: 'nulls', note: null, count_value: null, enabled_flag: '0', rating: null, data: null, created_at: null },
    ]);
    expect(await peer.pgRows('file_reviews', 'vera', 'id::text, review, file_id::text')).toEqual([
      { id: uuid(10), review: TEXT, file_id: uuid(9) },
    ]);
    // The device holds the committed spelling of each timestamp (same instant, microseconds).
    expect(localRows(a.db, 'typed_rows', 'created_at').map((r) => r.created_at)).toEqual([
      '2026-01-02T03:04:05.123457+00:00',
      '2026-01-02T01:04:05+00:00',
      null,
    ]);

    const b = await peer.device('vera');
    expect(await b.engine.attach('vera')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 5 });
    for (const t of ['typed_rows', 'files', 'file_reviews']) expect(localRows(b.db, t), t).toEqual(localRows(a.db, t));
    expect(localRows(b.db, 'typed_rows', 'typeof(count_value) AS t, count_value, rating, hex(data) AS data')[0]).toEqual({
      t: 'integer',
      count_value: 9007199254740991,
      rating: 0.30000000000000004,
      data: '00FF7F80',
    });

    // Beyond 2^53: refused before upload, naming the row; the change stays pending.
    a.db.exec(`UPDATE typed_rows SET count_value = 9007199254740992 WHERE id = '${uuid(2)}'`);
    const refused = await a.engine.pushPending().catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'value_not_representable',
      detail: { table: 'typed_rows', key: uuid(2), column: 'count_value', value: '9007199254740992' },
    });
    expect(a.engine.status.pendingCount).toBe(1);
    expect(await peer.pgRows('typed_rows', 'vera', 'count_value::text')).toContainEqual({ count_value: '-9007199254740991' });
    a.db.exec(`UPDATE typed_rows SET count_value = 9007199254740991 WHERE id = '${uuid(2)}'`);
    expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed' });
    expect(a.engine.status.pendingCount).toBe(0);

    // A zoneless timestamp is not predicted: the push downloads its bundle (verified in Go
    // material, numbers read back into our value forms) and adopts PostgreSQL's text.
    a.db.exec(`UPDATE typed_rows SET created_at = '2026-05-05 10:00:00', rating = 2.5 WHERE id = '${uuid(3)}'`);
    expect(await a.engine.pushPending()).toMatchObject({ outcome: 'committed', rowCount: 1 });
    expect(a.requests.filter((r) => r.includes('/committed-bundles/'))).toHaveLength(1);
    expect(localRows(a.db, 'typed_rows', 'created_at, rating')[2]).toEqual({ created_at: '2026-05-05T10:00:00+00:00', rating: 2.5 });
    expect(a.engine.status.pendingCount).toBe(0);
    await b.engine.sync();
    expect(localRows(b.db, 'typed_rows')).toEqual(localRows(a.db, 'typed_rows'));
  });

  it('refuses a first push beyond 2^53 - 1 from a device that has seen nothing of the server yet', async () => {
    const d = await peer.device('ulla');
    expect(await d.engine.attach('ulla')).toMatchObject({ outcome: 'started_empty' });
    d.db.exec(`INSERT INTO typed_rows(id, name, count_value, enabled_flag) VALUES ('${uuid(70)}', 'big', -9223372036854775808, 1)`);
    // The push session comes back without canonical_request_hash: a go-json-numbers server.
    await expect(d.engine.pushPending()).rejects.toMatchObject({
      code: 'value_not_representable',
      detail: { table: 'typed_rows', key: uuid(70), column: 'count_value', value: '-9223372036854775808' },
    });
    expect(d.requests.filter((r) => r.endsWith('/chunks') || r.endsWith('/commit'))).toEqual([]);
    expect(d.engine.status.pendingCount).toBe(1);
    expect(await peer.pgRows('typed_rows', 'ulla')).toEqual([]);
  });

  it('carries a BIGINT beyond 2^53 exactly from a snapshot and refuses the float64-rounded bundle row', async () => {
    const other = '7a0c0f3e-2b1d-4c5e-8f60-000000000001';
    await peer.rawPush('walt', other, 1, [
      {
        schema: 'business',
        table: 'typed_rows',
        key: { id: uuid(50) },
        op: 'INSERT',
        base_row_version: 0,
        payload: {
          id: uuid(50),
          name: 'big',
          note: null,
          count_value: '9007199254740993',
          enabled_flag: '1',
          rating: null,
          data: null,
          created_at: null,
        },
      },
    ]);
    expect(await peer.pgRows('typed_rows', 'walt', 'count_value::text')).toEqual([{ count_value: '9007199254740993' }]);

    // A device that hydrates reads PostgreSQL's own text: exact.
    const hydrated = await peer.device('walt');
    expect(await hydrated.engine.attach('walt')).toMatchObject({ outcome: 'used_remote_state', snapshotRows: 1 });
    expect(localRows(hydrated.db, 'typed_rows', 'count_value')).toEqual([{ count_value: 9007199254740993n }]);

    // A device that pulls gets the bundle row, which go-oversync built through float64
    // (9007199254740992): refused, naming the row, nothing applied.
    const early = await peer.device('walt');
    await early.engine.attach('walt'); // snapshot of bundle 1 already: pull the next one
    await peer.rawPush('walt', other, 2, [
      {
        schema: 'business',
        table: 'typed_rows',
        key: { id: uuid(51) },
        op: 'INSERT',
        base_row_version: 0,
        payload: {
          id: uuid(51),
          name: 'big 2',
          note: null,
          count_value: '-9007199254740995',
          enabled_flag: '0',
          rating: null,
          data: null,
          created_at: null,
        },
      },
    ]);
    const before = localRows(early.db, 'typed_rows');
    const err = await early.engine.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'value_not_representable', detail: { table: 'typed_rows', key: uuid(51), column: 'count_value' } });
    expect(localRows(early.db, 'typed_rows')).toEqual(before);
    // The same refusal a third time in a row: the engine's self-heal rebuilds from a snapshot,
    // which carries PostgreSQL's exact text (no manual hydrate()).
    await expect(early.engine.sync()).rejects.toMatchObject({ code: 'value_not_representable' });
    await early.engine.sync();
    expect(localRows(early.db, 'typed_rows', 'count_value')).toEqual([
      { count_value: 9007199254740993n },
      { count_value: -9007199254740995n },
    ]);
  });
});
