package main

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// typedRow is a typed_rows row as the app writes it into SQLite.
type typedRow struct {
	id      string
	name    string
	note    any
	count   any
	enabled int64
	rating  any
	data    any
	created any
	// wireCount, when set, is the count_value go-oversync's client actually sends (see below).
	wireCount any
}

// valueFamilyRows: text with characters Go's encoding/json escapes (& < > U+2028 U+2029), quotes,
// control characters and non-BMP; integers up to and at 2^53; reals near the float64 limits;
// booleans as 0/1; NULLs; BLOBs with every byte; timestamps with offsets and microseconds.
//
// Two limits are go-oversync's client's own (its own server sees the same bytes): it captures rows
// through SQLite's JSON functions, which print a REAL with 15 significant digits
// (1.7976931348623157e308 becomes 1.79769313486232e+308, which then fails its own float64 parse),
// so every real here has at most 15; and it re-encodes each payload through float64 before
// upload, so an integer beyond 2^53 leaves the device already rounded (2^53+1 is sent as
// 9007199254740992; int64 max as 9223372036854776000, out of range: see the refusal check).
func valueFamilyRows() []typedRow {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return []typedRow{
		{id: newID(), name: "escapes", note: "a & b < c > d \u2028 line \u2029 para", count: int64(0), enabled: 1, rating: 0.1, data: []byte{0x00}, created: "2026-03-24T18:42:11Z"},
		{id: newID(), name: "quotes \"and\" \\ back\tslash\nnewline", note: "emoji 😀 é 中文 \u0001 ctl", count: int64(-1), enabled: 0, rating: -2.5, data: all, created: "2026-03-24T10:42:11.123456-08:00"},
		{id: newID(), name: "2^53-1", note: nil, count: int64(1<<53 - 1), enabled: 1, rating: 1.79769313486231e308, data: []byte{}, created: "1999-12-31T23:59:59.999999Z"},
		{id: newID(), name: "2^53", note: "", count: int64(1 << 53), enabled: 0, rating: 5e-324, data: []byte("<&>"), created: nil},
		{id: newID(), name: "-(2^53-1)", note: "  spaces  ", count: -int64(1<<53 - 1), enabled: 1, rating: 123456789.125, data: nil, created: "2026-06-09T00:00:00+05:30"},
		{id: newID(), name: "2^53+1", note: "max", count: int64(1<<53 + 1), wireCount: int64(1 << 53), enabled: 1, rating: 1e21, data: nil, created: nil},
		{id: newID(), name: "small real", note: "min", count: int64(-42), enabled: 0, rating: -0.000001, data: nil, created: nil},
		{id: newID(), name: "nulls", note: nil, count: nil, enabled: 0, rating: nil, data: nil, created: nil},
	}
}

func insertTypedRows(ctx context.Context, d *device, rows []typedRow) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO typed_rows(id, name, note, count_value, enabled_flag, rating, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, r.name, r.note, r.count, r.enabled, r.rating, r.data, r.created); err != nil {
			return fmt.Errorf("insert typed row %q: %w", r.name, err)
		}
	}
	return tx.Commit()
}

// expectedTypedRows is what PostgreSQL and every device must hold, normalized.
func expectedTypedRows(rows []typedRow) tableRows {
	out := tableRows{}
	for _, r := range rows {
		count := r.count
		if r.wireCount != nil {
			count = r.wireCount
		}
		out[normalize("id", r.id)] = map[string]string{
			"id": normalize("id", r.id), "name": normalize("name", r.name), "note": normalize("note", r.note),
			"count_value": normalize("count_value", count), "enabled_flag": normalize("enabled_flag", r.enabled),
			"rating": normalize("rating", r.rating), "data": normalize("data", r.data), "created_at": normalize("created_at", r.created),
		}
	}
	return out
}

// value-families: every value family survives push (checked in PostgreSQL), incremental pull and
// snapshot hydrate (checked in the other devices' SQLite) exactly.
func scenarioValueFamilies(ctx context.Context, e *env) error {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	b, err := e.newDevice(ctx, "B")
	if err != nil {
		return err
	}
	for _, d := range []*device{a, b} {
		if _, err := d.attach(ctx, user); err != nil {
			return err
		}
	}
	rows := valueFamilyRows()
	if err := insertTypedRows(ctx, a, rows); err != nil {
		return err
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	want := expectedTypedRows(rows)
	server, err := e.readServer(ctx, "typed_rows", user)
	if err != nil {
		return err
	}
	if diff := diffRows("expected", want, "PostgreSQL", server); diff != "" {
		return fmt.Errorf("pushed values in PostgreSQL: %s", diff)
	}
	local, err := a.readLocal(ctx, "typed_rows")
	if err != nil {
		return err
	}
	if diff := diffRows("expected", want, "A after replay", local); diff != "" {
		return fmt.Errorf("pushing device after its committed-bundle replay: %s", diff)
	}
	if _, err := b.pull(ctx); err != nil {
		return err
	}
	if local, err = b.readLocal(ctx, "typed_rows"); err != nil {
		return err
	}
	if diff := diffRows("expected", want, "B after pull", local); diff != "" {
		return fmt.Errorf("pulled values: %s", diff)
	}
	h, err := e.newDevice(ctx, "H")
	if err != nil {
		return err
	}
	if _, err := h.attach(ctx, user); err != nil {
		return err
	}
	if local, err = h.readLocal(ctx, "typed_rows"); err != nil {
		return err
	}
	if diff := diffRows("expected", want, "H after hydrate", local); diff != "" {
		return fmt.Errorf("hydrated values: %s", diff)
	}
	// Updates to the limits and back to NULL travel the same way.
	if err := b.exec(ctx, `UPDATE typed_rows SET count_value = ?, rating = NULL, note = 'b & <edited>' WHERE id = ?`, -int64(1<<53), rows[0].id); err != nil {
		return err
	}
	if _, err := b.push(ctx); err != nil {
		return err
	}
	if _, err := a.pull(ctx); err != nil {
		return err
	}
	if err := e.converged(ctx, a, b); err != nil {
		return err
	}
	if e.reference {
		// go-oversync's own server answers that push 500 (PostgreSQL: out of range for bigint).
		return nil
	}
	return refusesOutOfRangeInteger(ctx, e, user)
}

// refusesOutOfRangeInteger: int64 max leaves go-oversync's client as 9223372036854776000; our
// server must refuse it with a typed error naming table, key and column, and store nothing.
func refusesOutOfRangeInteger(ctx context.Context, e *env, user string) error {
	r, err := e.newDevice(ctx, "R")
	if err != nil {
		return err
	}
	if _, err := r.attach(ctx, user); err != nil {
		return err
	}
	row := typedRow{id: newID(), name: "int64 max", count: int64(math.MaxInt64), enabled: 1}
	if err := insertTypedRows(ctx, r, []typedRow{row}); err != nil {
		return err
	}
	_, err = r.client.PushPending(ctx)
	if err == nil {
		return fmt.Errorf("push of count_value 9223372036854776000 (int64 max after the client's float64) was accepted")
	}
	for _, part := range []string{"400", "push_chunk_invalid", "typed_rows", row.id, "count_value"} {
		if !strings.Contains(err.Error(), part) {
			return fmt.Errorf("refusal of an out-of-range integer does not name %q: %v", part, err)
		}
	}
	var n int
	if err := e.pg.QueryRow(ctx, `SELECT count(*) FROM business.typed_rows WHERE _sync_scope_id = $1 AND id = $2`, user, row.id).Scan(&n); err != nil {
		return err
	}
	return expect(n == 0, "the refused row is in PostgreSQL")
}
