package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
)

// row-lifecycle: bundle shapes the Go client produces from ordinary app writes: a row inserted and
// deleted before any push (nothing sent), many updates of one row (one change), a key change
// (delete + insert), and a delete and re-insert of the same key in one push.
func scenarioRowLifecycle(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	keep, gone, renamed, reborn := newID(), newID(), newID(), newID()
	for _, id := range []string{keep, renamed, reborn} {
		if err := a.exec(ctx, `INSERT INTO categories(id, name) VALUES (?, ?)`, id, "v0 "+id[:4]); err != nil {
			return err
		}
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := a.exec(ctx, `INSERT INTO categories(id, name) VALUES (?, 'short-lived')`, gone); err != nil {
		return err
	}
	if err := a.exec(ctx, `DELETE FROM categories WHERE id = ?`, gone); err != nil {
		return err
	}
	for i := 1; i <= 5; i++ {
		if err := a.exec(ctx, `UPDATE categories SET name = ? WHERE id = ?`, fmt.Sprintf("v%d", i), keep); err != nil {
			return err
		}
	}
	newKey := newID()
	if err := a.exec(ctx, `UPDATE categories SET id = ? WHERE id = ?`, newKey, renamed); err != nil {
		return err
	}
	if err := a.exec(ctx, `DELETE FROM categories WHERE id = ?`, reborn); err != nil {
		return err
	}
	if err := a.exec(ctx, `INSERT INTO categories(id, name) VALUES (?, 'reborn')`, reborn); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("lifecycle push: %w", err)
	}
	server, err := e.readServer(ctx, "categories", a.user)
	if err != nil {
		return err
	}
	if len(server) != 3 || server[keep]["name"] != "v5" || server[reborn]["name"] != "reborn" || server[newKey] == nil || server[renamed] != nil || server[gone] != nil {
		return fmt.Errorf("PostgreSQL categories after the lifecycle push: %v", server)
	}
	return nil
}

// large-blob: a 3 MiB BLOB row (about 4 MiB as JSON). The invariant: the server never commits a
// row it will not serve. Either it is accepted, and then comes down by incremental pull and by
// snapshot (what go-oversync does), or the push is refused with a typed 4xx naming the table,
// storing nothing and losing nothing.
func scenarioLargeBlob(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i*131 + i>>9)
	}
	_, key := blobID()
	if err := a.exec(ctx, `INSERT INTO files(id, name, data) VALUES (?, 'big.bin', ?)`, key, data); err != nil {
		return err
	}
	if _, err := a.client.PushPending(ctx); err != nil {
		msg := err.Error()
		if !strings.Contains(msg, "status 4") || !strings.Contains(msg, "files") {
			return fmt.Errorf("push of a 3 MiB row refused without a typed 4xx naming the table: %v", err)
		}
		if rows, rerr := e.readServer(ctx, "files", a.user); rerr != nil || len(rows) != 0 {
			return fmt.Errorf("refused push left %d files rows on the server (%v)", len(rows), rerr)
		}
		if n, perr := a.pending(ctx); perr != nil || n != 1 {
			return fmt.Errorf("refused push: %d pending on the device (%v), want the row kept", n, perr)
		}
		return nil
	}
	if _, err := b.pull(ctx); err != nil {
		return err
	}
	if err := e.converged(ctx, a, b); err != nil {
		return err
	}
	h, err := e.newDevice(ctx, "H")
	if err != nil {
		return err
	}
	if _, err := h.attach(ctx, a.user); err != nil {
		return fmt.Errorf("the server accepted the row but cannot snapshot it: %w", err)
	}
	want := sha256.Sum256(data)
	for _, d := range []*device{a, b, h} {
		var got []byte
		if err := d.db.QueryRowContext(ctx, `SELECT data FROM files WHERE id = ?`, key).Scan(&got); err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		if sha256.Sum256(got) != want {
			return fmt.Errorf("%s holds %d bytes that differ from the 3 MiB written", d.name, len(got))
		}
	}
	var serverLen int
	if err := e.pg.QueryRow(ctx, `SELECT length(data) FROM business.files WHERE _sync_scope_id = $1`, a.user).Scan(&serverLen); err != nil {
		return err
	}
	return expect(serverLen == len(data), "PostgreSQL holds %d bytes, want %d", serverLen, len(data))
}
