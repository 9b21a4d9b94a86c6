package main

import (
	"context"
	"fmt"
)

// timestamp-nanoseconds: a timestamp written with nanoseconds; PostgreSQL keeps microseconds.
// The push commits, the device ends with nothing pending and holds the server's instant.
func scenarioTimestampNanoseconds(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	id := newID()
	if err := a.exec(ctx, `INSERT INTO typed_rows(id, name, enabled_flag, created_at) VALUES (?, 'nanos', 1, '2026-03-24T18:42:11.123456789Z')`, id); err != nil {
		return err
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	var stored string
	if err := e.pg.QueryRow(ctx, `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') FROM business.typed_rows WHERE _sync_scope_id = $1 AND id = $2`, a.user, id).Scan(&stored); err != nil {
		return err
	}
	if stored != "2026-03-24T18:42:11.123457" {
		return fmt.Errorf("PostgreSQL holds %s", stored)
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	if _, err := b.pull(ctx); err != nil {
		return err
	}
	return e.converged(ctx, a, b)
}
