package main

import (
	"context"
	"fmt"
)

// fk-self-reference-cascade: a category tree inserted children first, then its root deleted with
// ON DELETE CASCADE on the device; the server and the other device lose the whole tree.
func scenarioFKSelfReferenceCascade(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	root, mid, leaf, other := newID(), newID(), newID(), newID()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range [][]any{{leaf, "leaf", mid}, {mid, "mid", root}, {root, "root", nil}, {other, "other root", nil}} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO categories(id, name, parent_id) VALUES (?, ?, ?)`, q...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	if err := a.exec(ctx, `UPDATE categories SET parent_id = ? WHERE id = ?`, other, mid); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("re-parented: %w", err)
	}
	if err := a.exec(ctx, `DELETE FROM categories WHERE id = ?`, other); err != nil {
		return err
	}
	if n, _ := a.count(ctx, "categories"); n != 1 {
		return fmt.Errorf("local cascade left %d categories, want 1", n)
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("cascade delete: %w", err)
	}
	n, err := b.count(ctx, "categories")
	if err != nil {
		return err
	}
	return expect(n == 1, "device B holds %d categories after the cascade, want 1", n)
}

// fk-cycle-teams: teams and team_members reference each other (captain ↔ team), inserted in one
// transaction, re-pointed, then deleted.
func scenarioFKCycleTeams(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	team, m1, m2 := newID(), newID(), newID()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO teams(id, name, captain_member_id) VALUES (?, 'red', ?)`, team, m1); err != nil {
		return err
	}
	for _, m := range []string{m1, m2} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO team_members(id, name, team_id) VALUES (?, ?, ?)`, m, "member "+m[:4], team); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("cycle insert: %w", err)
	}
	if err := b.exec(ctx, `UPDATE teams SET captain_member_id = ? WHERE id = ?`, m2, team); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, b, a); err != nil {
		return fmt.Errorf("captain change: %w", err)
	}
	tx2, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx2.Rollback()
	if _, err := tx2.ExecContext(ctx, `UPDATE teams SET captain_member_id = NULL WHERE id = ?`, team); err != nil {
		return err
	}
	if _, err := tx2.ExecContext(ctx, `DELETE FROM teams WHERE id = ?`, team); err != nil {
		return err
	}
	if err := tx2.Commit(); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("team delete with cascade: %w", err)
	}
	n, err := b.count(ctx, "team_members")
	if err != nil {
		return err
	}
	return expect(n == 0, "device B holds %d team members after the team's delete, want 0", n)
}

// fk-blob-keys-cascade: files and reviews keyed by 16-byte BLOB UUIDs, BYTEA payloads, an update
// of the bytes and a cascading delete.
func scenarioFKBlobKeysCascade(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	fileID, fileKey := blobID()
	_, r1 := blobID()
	_, r2 := blobID()
	// Child before parent in one transaction: the deferred foreign key is checked at COMMIT.
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO file_reviews(id, review, file_id) VALUES (?, 'looks good', ?)`, r1, fileKey); err != nil {
		return fmt.Errorf("child before parent: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO files(id, name, data) VALUES (?, 'report.bin', ?)`, fileKey, []byte{0, 1, 2, 0xfe, 0xff}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO file_reviews(id, review, file_id) VALUES (?, 'needs <work> & more', ?)`, r2, fileKey); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	var serverName string
	if err := e.pg.QueryRow(ctx, `SELECT name FROM business.files WHERE _sync_scope_id = $1 AND id = $2::uuid`, a.user, fileID).Scan(&serverName); err != nil {
		return fmt.Errorf("file %s by its UUID in PostgreSQL: %w", fileID, err)
	}
	big := make([]byte, 64*1024)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := b.exec(ctx, `UPDATE files SET data = ? WHERE id = ?`, big, fileKey); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, b, a); err != nil {
		return fmt.Errorf("64 KiB update: %w", err)
	}
	if err := a.exec(ctx, `DELETE FROM files WHERE id = ?`, fileKey); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, a, b); err != nil {
		return fmt.Errorf("cascade delete: %w", err)
	}
	n, err := b.count(ctx, "file_reviews")
	if err != nil {
		return err
	}
	return expect(n == 0, "device B holds %d reviews after the file's delete, want 0", n)
}
