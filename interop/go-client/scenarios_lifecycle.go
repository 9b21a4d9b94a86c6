package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/mobiletoly/go-oversync/oversqlite"
)

// device-replacement: a new phone takes over a user's data, the old one syncs and detaches, and
// the new one carries on.
func scenarioDeviceReplacement(ctx context.Context, e *env) error {
	user := e.user("u")
	old, err := e.newDevice(ctx, "old")
	if err != nil {
		return err
	}
	if _, err := old.attach(ctx, user); err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, old, "jane", 3); err != nil {
		return err
	}
	if _, err := old.push(ctx); err != nil {
		return err
	}
	// A last edit on the old phone, still unsynced when the new one arrives.
	if err := old.exec(ctx, `UPDATE posts SET content = 'last words' WHERE title LIKE '%post 2'`); err != nil {
		return err
	}
	repl, err := e.newDevice(ctx, "new")
	if err != nil {
		return err
	}
	res, err := repl.attach(ctx, user)
	if err != nil {
		return err
	}
	if res.Outcome != oversqlite.AttachOutcomeUsedRemote {
		return fmt.Errorf("replacement attach: outcome %q, want %q", res.Outcome, oversqlite.AttachOutcomeUsedRemote)
	}
	det, err := old.client.SyncThenDetach(ctx)
	if err != nil {
		return fmt.Errorf("old: SyncThenDetach: %w", err)
	}
	if !det.IsSuccess() {
		return fmt.Errorf("old: SyncThenDetach: detach outcome %q, %d rows left", det.Detach.Outcome, det.RemainingPendingRowCount)
	}
	if _, err := repl.pull(ctx); err != nil {
		return err
	}
	var content string
	if err := repl.db.QueryRowContext(ctx, `SELECT content FROM posts WHERE title LIKE '%post 2'`).Scan(&content); err != nil {
		return err
	}
	if content != "last words" {
		return fmt.Errorf("replacement holds %q, want the old phone's last edit", content)
	}
	if _, err := insertUserWithPosts(ctx, repl, "jane-new-phone", 1); err != nil {
		return err
	}
	if _, err := repl.push(ctx); err != nil {
		return err
	}
	return e.converged(ctx, repl)
}

// detach-and-user-switch: detach is refused with unsynced rows, SyncThenDetach succeeds, and the
// device then attaches as another user and holds only that user's rows.
func scenarioDetachAndUserSwitch(ctx context.Context, e *env) error {
	u1, u2 := e.user("one"), e.user("two")
	other, err := e.newDevice(ctx, "u2-other")
	if err != nil {
		return err
	}
	if _, err := other.attach(ctx, u2); err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, other, "kim", 2); err != nil {
		return err
	}
	if _, err := other.push(ctx); err != nil {
		return err
	}
	d, err := e.newDevice(ctx, "D")
	if err != nil {
		return err
	}
	if _, err := d.attach(ctx, u1); err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, d, "lee", 2); err != nil {
		return err
	}
	if _, err := d.push(ctx); err != nil {
		return err
	}
	if err := d.exec(ctx, `INSERT INTO categories(id, name) VALUES (?, 'unsynced')`, newID()); err != nil {
		return err
	}
	blocked, err := d.client.Detach(ctx)
	if err != nil {
		return fmt.Errorf("D: Detach: %w", err)
	}
	if blocked.Outcome != oversqlite.DetachOutcomeBlockedUnsyncedData || blocked.PendingRowCount != 1 {
		return fmt.Errorf("detach with 1 unsynced row: outcome %q pending %d, want blocked_unsynced_data 1", blocked.Outcome, blocked.PendingRowCount)
	}
	det, err := d.client.SyncThenDetach(ctx)
	if err != nil {
		return fmt.Errorf("D: SyncThenDetach: %w", err)
	}
	if !det.IsSuccess() {
		return fmt.Errorf("SyncThenDetach: outcome %q", det.Detach.Outcome)
	}
	server1, err := e.readServer(ctx, "categories", u1)
	if err != nil {
		return err
	}
	if len(server1) != 1 {
		return fmt.Errorf("user one has %d categories on the server, want the 1 synced before detach", len(server1))
	}
	res, err := d.attach(ctx, u2)
	if err != nil {
		return err
	}
	if res.Outcome != oversqlite.AttachOutcomeUsedRemote {
		return fmt.Errorf("attach as user two: outcome %q, want %q", res.Outcome, oversqlite.AttachOutcomeUsedRemote)
	}
	if err := e.converged(ctx, d, other); err != nil {
		return fmt.Errorf("after switching to user two: %w", err)
	}
	if _, err := insertUserWithPosts(ctx, d, "kim-on-D", 1); err != nil {
		return err
	}
	// go-oversync's client keeps its source id and bundle counter across the user switch, so its
	// first push as user two is refused as source_sequence_out_of_order (go-oversync's own server
	// refuses it alike); its documented way out is Rebuild(), which rotates the source and keeps
	// the pending rows.
	if _, err := d.client.PushPending(ctx); err != nil {
		if _, rerr := d.client.Rebuild(ctx); rerr != nil {
			return fmt.Errorf("D: Rebuild after %v: %w", err, rerr)
		}
	}
	if err := pushThenPull(ctx, e, d, other); err != nil {
		return err
	}
	users1, err := e.readServer(ctx, "users", u1)
	if err != nil {
		return err
	}
	return expect(len(users1) == 1, "user one has %d users rows on the server after the switch, want 1", len(users1))
}

// concurrent-first-attach: two devices with local rows attach the same new user at once; the
// server's initialization lease lets exactly one seed, the other is told to retry later and then
// takes the seeded state (its anonymous rows are replaced, as go-oversync specifies).
func scenarioConcurrentFirstAttach(ctx context.Context, e *env) error {
	user := e.user("u")
	devices := make([]*device, 2)
	for i, name := range []string{"A", "B"} {
		d, err := e.newDevice(ctx, name)
		if err != nil {
			return err
		}
		if _, err := insertUserWithPosts(ctx, d, "racer-"+name, 2); err != nil {
			return err
		}
		d.user = user
		d.tokenUser.Store(user)
		devices[i] = d
	}
	results := make([]oversqlite.AttachResult, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Add(1)
		go func(i int, d *device) {
			defer wg.Done()
			<-start
			results[i], errs[i] = d.client.Attach(ctx, user)
		}(i, d)
	}
	close(start)
	wg.Wait()
	winner, loser := -1, -1
	for i := range devices {
		if errs[i] != nil {
			return fmt.Errorf("%s: Attach: %w", devices[i].name, errs[i])
		}
		switch {
		case results[i].Status == oversqlite.AttachStatusConnected && results[i].Outcome == oversqlite.AttachOutcomeSeededLocal:
			winner = i
		case results[i].Status == oversqlite.AttachStatusRetryLater:
			loser = i
		}
	}
	if winner < 0 || loser < 0 {
		return fmt.Errorf("concurrent first attach: %+v / %+v, want one seeded_from_local and one retry_later", results[0], results[1])
	}
	w, l := devices[winner], devices[loser]
	if _, err := w.push(ctx); err != nil {
		return err
	}
	res, err := l.attach(ctx, user)
	if err != nil {
		return err
	}
	if res.Outcome != oversqlite.AttachOutcomeUsedRemote {
		return fmt.Errorf("%s after the seed: outcome %q, want %q", l.name, res.Outcome, oversqlite.AttachOutcomeUsedRemote)
	}
	if err := e.converged(ctx, w, l); err != nil {
		return err
	}
	server, err := e.readServer(ctx, "posts", user)
	if err != nil {
		return err
	}
	return expect(len(server) == 2, "the server holds %d posts, want the winner's 2", len(server))
}

// history-pruned: a device left 20 bundles behind (our server keeps 16 per user here) gets
// history_pruned on pull and falls back to a snapshot, keeping its own unsynced edit.
func scenarioHistoryPruned(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	for i := 0; i < 20; i++ {
		if _, err := insertUserWithPosts(ctx, a, fmt.Sprintf("busy-%02d", i), 1); err != nil {
			return err
		}
		if _, err := a.push(ctx); err != nil {
			return err
		}
	}
	cat := newID()
	if err := b.exec(ctx, `INSERT INTO categories(id, name) VALUES (?, 'offline on B')`, cat); err != nil {
		return err
	}
	before := b.client.SnapshotTransferDiagnostics()
	// go-oversync's Sync pushes first (B's edit goes up as bundle 21), then pulls from bundle 0,
	// below the retained floor: that pull must come back history_pruned and end in a snapshot.
	rep, err := b.sync(ctx)
	if err != nil {
		return err
	}
	after := b.client.SnapshotTransferDiagnostics()
	if rep.RemoteOutcome != oversqlite.RemoteSyncOutcomeAppliedSnapshot || after.SessionsCreated == before.SessionsCreated {
		return fmt.Errorf("sync 20 bundles behind a 16-bundle history: remote outcome %q with %d new snapshot sessions, want applied_snapshot", rep.RemoteOutcome, after.SessionsCreated-before.SessionsCreated)
	}
	if pruned := b.wire.failed("history_pruned"); len(pruned) == 0 {
		return fmt.Errorf("B rebuilt from a snapshot without a history_pruned answer")
	}
	if err := b.requireNoPending(ctx); err != nil {
		return err
	}
	if _, err := a.pull(ctx); err != nil {
		return err
	}
	if err := e.converged(ctx, a, b); err != nil {
		return err
	}
	var n int
	if err := a.db.QueryRowContext(ctx, `SELECT count(*) FROM categories WHERE id = ?`, cat).Scan(&n); err != nil {
		return err
	}
	return expect(n == 1, "B's offline category did not reach A")
}

// restart-after-commit: the app dies after the server committed its bundle and before the local
// replay; the restarted client replays the committed bundle and ends clean.
func scenarioRestartAfterCommit(ctx context.Context, e *env) error {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	if _, err := a.attach(ctx, user); err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, a, "gina & co", 5); err != nil {
		return err
	}
	crash := fmt.Errorf("simulated crash after commit")
	a.client.SetBeforePushReplayHook(func(context.Context) error { return crash })
	if _, err := a.client.PushPending(ctx); err == nil {
		return fmt.Errorf("push with a crash before replay reported success")
	}
	server, err := e.readServer(ctx, "posts", user)
	if err != nil {
		return err
	}
	if len(server) != 5 {
		return fmt.Errorf("the server holds %d posts after the interrupted push, want the 5 committed", len(server))
	}
	if err := a.restart(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	before := a.client.PushTransferDiagnostics()
	if _, err := a.push(ctx); err != nil {
		return fmt.Errorf("after restart: %w", err)
	}
	after := a.client.PushTransferDiagnostics()
	if after.CommittedBundleChunksRead <= before.CommittedBundleChunksRead {
		return fmt.Errorf("restarted client did not read the committed bundle (committed-bundle chunks read %d → %d)", before.CommittedBundleChunksRead, after.CommittedBundleChunksRead)
	}
	if after.SessionsCreated != before.SessionsCreated {
		return fmt.Errorf("restarted client pushed the bundle again (%d new push sessions) instead of replaying it", after.SessionsCreated-before.SessionsCreated)
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	if server, err = e.readServer(ctx, "posts", user); err != nil {
		return err
	}
	if len(server) != 5 {
		return fmt.Errorf("the server holds %d posts after replay, want 5 (no duplicate commit)", len(server))
	}
	return e.converged(ctx, a)
}

// rebuild-fresh-install: a new install of an existing user hydrates everything on attach, and an
// explicit Rebuild() restores the same state from a snapshot.
func scenarioRebuildFreshInstall(ctx context.Context, e *env) error {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	if _, err := a.attach(ctx, user); err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		if _, err := insertUserWithPosts(ctx, a, fmt.Sprintf("frank-%d", i), 4); err != nil {
			return err
		}
	}
	if err := insertTypedRows(ctx, a, valueFamilyRows()[2:7]); err != nil {
		return err
	}
	fid, fb := blobID()
	if err := a.exec(ctx, `INSERT INTO files(id, name, data) VALUES (?, 'doc', ?)`, fb, []byte("file bytes \x00\xff")); err != nil {
		return err
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	n, err := e.newDevice(ctx, "N", func(c *oversqlite.Config) { c.SnapshotChunkRows = 7 })
	if err != nil {
		return err
	}
	res, err := n.attach(ctx, user)
	if err != nil {
		return err
	}
	if res.Outcome != oversqlite.AttachOutcomeUsedRemote {
		return fmt.Errorf("fresh install attach: outcome %q, want %q", res.Outcome, oversqlite.AttachOutcomeUsedRemote)
	}
	if err := e.converged(ctx, a, n); err != nil {
		return fmt.Errorf("after hydrate: %w", err)
	}
	stats := n.client.SnapshotTransferDiagnostics()
	if stats.ChunksFetched < 2 {
		return fmt.Errorf("hydrate of 31 rows with 7-row chunks fetched %d chunk(s), want several", stats.ChunksFetched)
	}
	rep, err := n.client.Rebuild(ctx)
	if err != nil {
		return fmt.Errorf("N: Rebuild: %w", err)
	}
	if rep.Outcome != oversqlite.RemoteSyncOutcomeAppliedSnapshot {
		return fmt.Errorf("Rebuild outcome %q, want applied_snapshot", rep.Outcome)
	}
	if err := e.converged(ctx, n); err != nil {
		return fmt.Errorf("after Rebuild: %w", err)
	}
	var got int64
	if err := n.db.QueryRowContext(ctx, `SELECT count(*) FROM files WHERE id = ?`, fb).Scan(&got); err != nil {
		return err
	}
	return expect(got == 1, "file %s with a BLOB key not found after rebuild", fid)
}

// restart-before-commit: the app dies after uploading every chunk (3-row chunks) and before the
// commit; the restarted client uploads the same source bundle again and commits it once.
func scenarioRestartBeforeCommit(ctx context.Context, e *env) error {
	a, err := e.newDevice(ctx, "A", func(c *oversqlite.Config) { c.UploadLimit = 3 })
	if err != nil {
		return err
	}
	user := e.user("u")
	if _, err := a.attach(ctx, user); err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, a, "interrupted", 7); err != nil {
		return err
	}
	a.client.SetBeforePushCommitHook(func(context.Context) error { return fmt.Errorf("simulated crash before commit") })
	if _, err := a.client.PushPending(ctx); err == nil {
		return fmt.Errorf("push with a crash before commit reported success")
	}
	if rows, err := e.readServer(ctx, "posts", user); err != nil {
		return err
	} else if len(rows) != 0 {
		return fmt.Errorf("the server holds %d posts of an uncommitted push session", len(rows))
	}
	if err := a.restart(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	rep, err := a.push(ctx)
	if err != nil {
		return fmt.Errorf("after restart: %w", err)
	}
	if rep.Outcome != oversqlite.PushOutcomeCommitted {
		return fmt.Errorf("push after restart: outcome %q, want committed", rep.Outcome)
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	if rows, err := e.readServer(ctx, "posts", user); err != nil {
		return err
	} else if len(rows) != 7 {
		return fmt.Errorf("the server holds %d posts, want 7", len(rows))
	}
	return e.converged(ctx, a)
}
