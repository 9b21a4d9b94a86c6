package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mobiletoly/go-oversync/oversqlite"
)

// conflictSetup: devices A and B of one user share a user row; A renames it and pushes, B renames
// it too from the older version. Returns the devices and the row id.
func conflictSetup(ctx context.Context, e *env, resolver oversqlite.Resolver) (*device, *device, string, error) {
	user := e.user("u")
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return nil, nil, "", err
	}
	b, err := e.newDevice(ctx, "B")
	if err != nil {
		return nil, nil, "", err
	}
	for _, d := range []*device{a, b} {
		if _, err := d.attach(ctx, user); err != nil {
			return nil, nil, "", err
		}
	}
	uid, err := insertUserWithPosts(ctx, a, "base", 0)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := a.push(ctx); err != nil {
		return nil, nil, "", err
	}
	if _, err := b.pull(ctx); err != nil {
		return nil, nil, "", err
	}
	if err := a.exec(ctx, `UPDATE users SET name = 'from A', email = 'a@example.com' WHERE id = ?`, uid); err != nil {
		return nil, nil, "", err
	}
	if _, err := a.push(ctx); err != nil {
		return nil, nil, "", err
	}
	if err := b.exec(ctx, `UPDATE users SET name = 'from B' WHERE id = ?`, uid); err != nil {
		return nil, nil, "", err
	}
	b.client.Resolver = resolver
	return a, b, uid, nil
}

func userName(ctx context.Context, d *device, id string) (string, error) {
	var name string
	err := d.db.QueryRowContext(ctx, `SELECT name FROM users WHERE id = ?`, id).Scan(&name)
	return name, err
}

func serverUserName(ctx context.Context, e *env, user, id string) (string, error) {
	var name string
	err := e.pg.QueryRow(ctx, `SELECT name FROM business.users WHERE _sync_scope_id = $1 AND id = $2`, user, id).Scan(&name)
	return name, err
}

// conflictOutcome syncs both devices and checks that the row ends as want everywhere.
func conflictOutcome(ctx context.Context, e *env, a, b *device, uid, want string) error {
	if _, err := b.sync(ctx); err != nil {
		return err
	}
	if _, err := a.sync(ctx); err != nil {
		return err
	}
	for _, d := range []*device{a, b} {
		if err := d.requireNoPending(ctx); err != nil {
			return err
		}
		got, err := userName(ctx, d, uid)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s holds name %q after the conflict, want %q", d.name, got, want)
		}
	}
	got, err := serverUserName(ctx, e, a.user, uid)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("PostgreSQL holds name %q after the conflict, want %q", got, want)
	}
	return e.converged(ctx, a, b)
}

// conflict-server-wins: the later writer's change is dropped for the server's row.
func scenarioConflictServerWins(ctx context.Context, e *env) error {
	a, b, uid, err := conflictSetup(ctx, e, &oversqlite.ServerWinsResolver{})
	if err != nil {
		return err
	}
	return conflictOutcome(ctx, e, a, b, uid, "from A")
}

// conflict-client-wins: the later writer's change is pushed again over the server's row.
func scenarioConflictClientWins(ctx context.Context, e *env) error {
	a, b, uid, err := conflictSetup(ctx, e, &oversqlite.ClientWinsResolver{})
	if err != nil {
		return err
	}
	return conflictOutcome(ctx, e, a, b, uid, "from B")
}

// mergingResolver merges name fields and records what the server reported.
type mergingResolver struct {
	mu   sync.Mutex
	seen []oversqlite.ConflictContext
}

func (r *mergingResolver) Resolve(c oversqlite.ConflictContext) oversqlite.MergeResult {
	r.mu.Lock()
	r.seen = append(r.seen, c)
	r.mu.Unlock()
	var server, local map[string]any
	if json.Unmarshal(c.ServerRowPayload, &server) != nil || json.Unmarshal(c.LocalPayload, &local) != nil {
		return oversqlite.AcceptServer{}
	}
	server["name"] = fmt.Sprintf("%v + %v", server["name"], local["name"])
	merged, err := json.Marshal(server)
	if err != nil {
		return oversqlite.AcceptServer{}
	}
	return oversqlite.KeepMerged{MergedPayload: merged}
}

// conflict-custom-resolver: a resolver sees the server's row in the conflict and pushes a merge.
func scenarioConflictCustomResolver(ctx context.Context, e *env) error {
	r := &mergingResolver{}
	a, b, uid, err := conflictSetup(ctx, e, r)
	if err != nil {
		return err
	}
	if err := conflictOutcome(ctx, e, a, b, uid, "from A + from B"); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) != 1 {
		return fmt.Errorf("resolver called %d times, want 1", len(r.seen))
	}
	c := r.seen[0]
	var server map[string]any
	if err := json.Unmarshal(c.ServerRowPayload, &server); err != nil {
		return fmt.Errorf("conflict server row payload %s: %w", c.ServerRowPayload, err)
	}
	if c.Table != "users" || c.LocalOp != "UPDATE" || c.ServerRowDeleted || server["email"] != "a@example.com" || c.ServerRowVersion <= c.BaseRowVersion {
		return fmt.Errorf("conflict context: table %q op %q deleted %v versions base %d server %d payload %s", c.Table, c.LocalOp, c.ServerRowDeleted, c.BaseRowVersion, c.ServerRowVersion, c.ServerRowPayload)
	}
	return nil
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

// watch-wakeup: a started client with watch enabled applies another device's bundle within
// seconds, with polling slowed to 60 s so that only the watch stream can wake it.
func scenarioWatchWakeup(ctx context.Context, e *env) error {
	user := e.user("u")
	w, err := e.newDevice(ctx, "watcher", func(c *oversqlite.Config) {
		c.BundleChangeWatchMode = oversqlite.BundleChangeWatchAuto
		c.WatchFallbackInterval = 60 * time.Second
		c.BackoffMin = 30 * time.Second
		c.BackoffMax = 60 * time.Second
	})
	if err != nil {
		return err
	}
	if _, err := w.attach(ctx, user); err != nil {
		return err
	}
	p, err := e.newDevice(ctx, "pusher")
	if err != nil {
		return err
	}
	if _, err := p.attach(ctx, user); err != nil {
		return err
	}
	// The watcher only downloads: with its upload loop running, the download loop's first
	// LastBundleSeqSeen can meet the upload loop's lock and then sleeps BackoffMin (30 s here).
	w.client.PauseUploads()
	loops, stop := context.WithCancel(ctx)
	defer stop()
	if err := w.client.Start(loops); err != nil {
		return fmt.Errorf("watcher: Start: %w", err)
	}
	select {
	case <-w.wire.watchOpened:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("watcher never opened GET /sync/watch with 200 (capabilities must advertise bundle_change_watch)")
	}
	if n, err := e.watchSubscribers(ctx, user); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("server reports %d watch subscribers for the user with one open stream", n)
	}
	for round := 1; round <= 2; round++ {
		uid, err := insertUserWithPosts(ctx, p, fmt.Sprintf("watched-%d", round), 1)
		if err != nil {
			return err
		}
		pushed := time.Now()
		if _, err := p.push(ctx); err != nil {
			return err
		}
		for {
			var n int
			if err := w.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, uid).Scan(&n); err != nil {
				return err
			}
			if n == 1 {
				break
			}
			if time.Since(pushed) > 10*time.Second {
				return fmt.Errorf("round %d: watcher did not apply the pushed bundle within 10 s", round)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop()
	// The stream's end reaches the server asynchronously: its count drops to 0 within seconds.
	for deadline := time.Now().Add(5 * time.Second); ; {
		n, err := e.watchSubscribers(ctx, user)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server still reports %d watch subscribers 5 s after the watcher stopped", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e.converged(ctx, w, p)
}

// watchSubscribers asks the server how many watch streams user has open
// (GET /test/watch-subscribers, a route of go-oversync's example server and of our lane's server).
func (e *env) watchSubscribers(ctx context.Context, user string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.serverURL+"/test/watch-subscribers?user_id="+url.QueryEscape(user), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		SubscriberCount *int `json:"subscriber_count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.SubscriberCount == nil {
		return 0, fmt.Errorf("GET /test/watch-subscribers: status %d, %v", resp.StatusCode, err)
	}
	return *body.SubscriberCount, nil
}
