package main

import (
	"context"
	"fmt"
	"math"
	"strings"

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
