package main

import (
	"context"
	"fmt"

	"github.com/mobiletoly/go-oversync/oversqlite"
)

// insertUserWithPosts writes one user and n posts by them in one local transaction.
func insertUserWithPosts(ctx context.Context, d *device, name string, n int) (string, error) {
	uid := newID()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO users(id, name, email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		uid, name, name+"@example.com", "2026-06-09T10:00:00Z", "2026-06-09T10:00:00.123456Z"); err != nil {
		return "", err
	}
	for i := 0; i < n; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO posts(id, title, content, author_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			newID(), fmt.Sprintf("%s post %d", name, i), "body of the post", uid, "2026-06-09T11:00:00Z"); err != nil {
			return "", err
		}
	}
	return uid, tx.Commit()
}

// twoDevices attaches two fresh devices to one new user.
func twoDevices(ctx context.Context, e *env) (*device, *device, error) {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return nil, nil, err
	}
	b, err := e.newDevice(ctx, "B")
	if err != nil {
		return nil, nil, err
	}
	for _, d := range []*device{a, b} {
		if _, err := d.attach(ctx, user); err != nil {
			return nil, nil, err
		}
	}
	return a, b, nil
}

// pushThenPull pushes a and pulls b, then checks both against PostgreSQL.
func pushThenPull(ctx context.Context, e *env, a, b *device) error {
	if _, err := a.push(ctx); err != nil {
		return err
	}
	if _, err := b.pull(ctx); err != nil {
		return err
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	return e.converged(ctx, a, b)
}

// attach-and-seed: rows written before the first attach are seeded to the server.
func scenarioAttachAndSeed(ctx context.Context, e *env) error {
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, a, "offline-alice", 3); err != nil {
		return err
	}
	res, err := a.attach(ctx, e.user("u"))
	if err != nil {
		return err
	}
	if res.Outcome != oversqlite.AttachOutcomeSeededLocal {
		return fmt.Errorf("first attach with local rows: outcome %q, want %q", res.Outcome, oversqlite.AttachOutcomeSeededLocal)
	}
	rep, err := a.push(ctx)
	if err != nil {
		return err
	}
	if rep.Outcome != oversqlite.PushOutcomeCommitted {
		return fmt.Errorf("seed push outcome %q, want committed", rep.Outcome)
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	return e.converged(ctx, a)
}

// push-pending: inserts, updates and deletes on an attached device reach PostgreSQL.
func scenarioPushPending(ctx context.Context, e *env) error {
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	res, err := a.attach(ctx, e.user("u"))
	if err != nil {
		return err
	}
	if res.Outcome != oversqlite.AttachOutcomeStartedEmpty {
		return fmt.Errorf("attach of a new user on an empty device: outcome %q, want %q", res.Outcome, oversqlite.AttachOutcomeStartedEmpty)
	}
	uid, err := insertUserWithPosts(ctx, a, "bob", 4)
	if err != nil {
		return err
	}
	if rep, err := a.push(ctx); err != nil {
		return err
	} else if rep.Outcome != oversqlite.PushOutcomeCommitted {
		return fmt.Errorf("push outcome %q, want committed", rep.Outcome)
	}
	if err := e.converged(ctx, a); err != nil {
		return fmt.Errorf("after insert push: %w", err)
	}
	if err := a.exec(ctx, `UPDATE users SET name = 'bob renamed', updated_at = '2026-06-10T00:00:00Z' WHERE id = ?`, uid); err != nil {
		return err
	}
	if err := a.exec(ctx, `DELETE FROM posts WHERE id = (SELECT id FROM posts ORDER BY title LIMIT 1)`); err != nil {
		return err
	}
	if err := a.exec(ctx, `UPDATE posts SET content = 'edited' WHERE title LIKE '%post 3'`); err != nil {
		return err
	}
	if rep, err := a.push(ctx); err != nil {
		return err
	} else if rep.Outcome != oversqlite.PushOutcomeCommitted {
		return fmt.Errorf("second push outcome %q, want committed", rep.Outcome)
	}
	if rep, err := a.push(ctx); err != nil {
		return err
	} else if rep.Outcome != oversqlite.PushOutcomeNoChange {
		return fmt.Errorf("push with nothing pending: outcome %q, want no_change", rep.Outcome)
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	n, err := a.count(ctx, "posts")
	if err != nil {
		return err
	}
	if err := expect(n == 3, "device has %d posts, want 3", n); err != nil {
		return err
	}
	return e.converged(ctx, a)
}

// pull-to-stable: a second device of the same user receives the first one's bundles, then a pull
// at the latest bundle reports nothing to do.
func scenarioPullToStable(ctx context.Context, e *env) error {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	b, err := e.newDevice(ctx, "B")
	if err != nil {
		return err
	}
	if _, err := a.attach(ctx, user); err != nil {
		return err
	}
	if _, err := b.attach(ctx, user); err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		if _, err := insertUserWithPosts(ctx, a, fmt.Sprintf("carol-%d", i), 2); err != nil {
			return err
		}
		if _, err := a.push(ctx); err != nil {
			return err
		}
	}
	rep, err := b.pull(ctx)
	if err != nil {
		return err
	}
	if rep.Outcome != oversqlite.RemoteSyncOutcomeAppliedIncremental {
		return fmt.Errorf("pull outcome %q, want applied_incremental", rep.Outcome)
	}
	if err := e.converged(ctx, a, b); err != nil {
		return err
	}
	again, err := b.pull(ctx)
	if err != nil {
		return fmt.Errorf("pull at the latest bundle: %w", err)
	}
	if again.Outcome != oversqlite.RemoteSyncOutcomeAlreadyAtTarget {
		return fmt.Errorf("pull at the latest bundle: outcome %q, want already_at_target", again.Outcome)
	}
	seqA, _ := a.client.LastBundleSeqSeen(ctx)
	seqB, _ := b.client.LastBundleSeqSeen(ctx)
	return expect(seqA == seqB && seqA > 0, "last bundle seq A=%d B=%d, want equal and > 0", seqA, seqB)
}

// two-devices-converge: two devices of one user write, edit each other's rows and delete, with
// Sync() rounds; both end equal to PostgreSQL.
func scenarioTwoDevicesConverge(ctx context.Context, e *env) error {
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
	ua, err := insertUserWithPosts(ctx, a, "dave", 3)
	if err != nil {
		return err
	}
	ub, err := insertUserWithPosts(ctx, b, "erin", 3)
	if err != nil {
		return err
	}
	syncAll := func() error {
		for round := 0; round < 2; round++ {
			for _, d := range []*device{a, b} {
				if _, err := d.sync(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := syncAll(); err != nil {
		return err
	}
	if err := a.exec(ctx, `UPDATE users SET email = 'erin@elsewhere.example' WHERE id = ?`, ub); err != nil {
		return err
	}
	if err := b.exec(ctx, `DELETE FROM posts WHERE author_id = ? AND title LIKE '%post 0'`, ua); err != nil {
		return err
	}
	if err := b.exec(ctx, `INSERT INTO categories(id, name, parent_id) VALUES (?, 'from B', NULL)`, newID()); err != nil {
		return err
	}
	if err := syncAll(); err != nil {
		return err
	}
	for _, d := range []*device{a, b} {
		if err := d.requireNoPending(ctx); err != nil {
			return err
		}
	}
	if err := e.converged(ctx, a, b); err != nil {
		return err
	}
	n, err := a.count(ctx, "posts")
	if err != nil {
		return err
	}
	return expect(n == 5, "device A has %d posts, want 5", n)
}

// multi-chunk-upload: with a 7-row upload limit, a 150-row bundle goes up in many chunks and
// commits as one bundle.
func scenarioMultiChunkUpload(ctx context.Context, e *env) error {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A", func(c *oversqlite.Config) { c.UploadLimit = 7 })
	if err != nil {
		return err
	}
	if _, err := a.attach(ctx, user); err != nil {
		return err
	}
	for i := 0; i < 30; i++ {
		if _, err := insertUserWithPosts(ctx, a, fmt.Sprintf("hank-%02d", i), 4); err != nil {
			return err
		}
	}
	before := a.client.PushTransferDiagnostics()
	rep, err := a.push(ctx)
	if err != nil {
		return err
	}
	if rep.Outcome != oversqlite.PushOutcomeCommitted {
		return fmt.Errorf("push outcome %q, want committed", rep.Outcome)
	}
	after := a.client.PushTransferDiagnostics()
	chunks := after.ChunksUploaded - before.ChunksUploaded
	sessions := after.SessionsCreated - before.SessionsCreated
	if chunks < 150/7 || sessions != 1 {
		return fmt.Errorf("150 rows with upload limit 7: %d chunks in %d push sessions, want ≥ %d chunks in 1 session", chunks, sessions, 150/7)
	}
	if err := e.converged(ctx, a); err != nil {
		return err
	}
	b, err := e.newDevice(ctx, "B", func(c *oversqlite.Config) { c.DownloadLimit = 9 })
	if err != nil {
		return err
	}
	if _, err := b.attach(ctx, user); err != nil {
		return err
	}
	// An incremental pull of another large bundle, in small pages.
	for i := 0; i < 10; i++ {
		if _, err := insertUserWithPosts(ctx, a, fmt.Sprintf("ivy-%02d", i), 3); err != nil {
			return err
		}
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	if _, err := b.pull(ctx); err != nil {
		return err
	}
	return e.converged(ctx, a, b)
}
