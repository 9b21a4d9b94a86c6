package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/mobiletoly/go-oversync/oversqlite"
)

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
