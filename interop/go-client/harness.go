package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/mattn/go-sqlite3"
	"github.com/mobiletoly/go-oversync/oversqlite"
)

// env is what every scenario gets: our server's URL, its database, a scratch folder.
type env struct {
	serverURL string
	// serverURL2 is a second server process on the same database (empty when the lane has none).
	serverURL2 string
	secret     []byte
	pg         *pgxpool.Pool
	dir        string
	scenario   string
	devices    *[]*device
	closers    *[]func()
	// reference: the server is go-oversync's own example server (checks of ours-only behaviour off).
	reference bool
}

func newEnv() (*env, error) {
	serverURL := os.Getenv("OVERSQLITE_SERVER_URL")
	dbURL := os.Getenv("OVERSQLITE_DATABASE_URL")
	secret := os.Getenv("JWT_SECRET")
	if serverURL == "" || dbURL == "" || secret == "" {
		return nil, errors.New("OVERSQLITE_SERVER_URL, OVERSQLITE_DATABASE_URL and JWT_SECRET must be set (interop/go-client-lane.mjs sets them)")
	}
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL %s: %w", dbURL, err)
	}
	dir, err := os.MkdirTemp("", "oversqlite-interop-go-client-")
	if err != nil {
		return nil, err
	}
	return &env{serverURL: serverURL, serverURL2: os.Getenv("OVERSQLITE_SERVER_URL_2"), secret: []byte(secret), pg: pool, dir: dir}, nil
}

func (e *env) close() {
	e.pg.Close()
	_ = os.RemoveAll(e.dir)
}

// forScenario gives a scenario its own device list, closed when it ends.
func (e *env) forScenario(name string) *env {
	devices := []*device{}
	closers := []func(){}
	scoped := *e
	scoped.scenario = name
	scoped.devices = &devices
	scoped.closers = &closers
	return &scoped
}

func (e *env) cleanup() {
	for _, d := range *e.devices {
		d.shutdown()
	}
	for _, c := range *e.closers {
		c()
	}
}

// wireLog is every device's recent HTTP exchanges, for a failure report.
func (e *env) wireLog() string {
	var b strings.Builder
	for _, d := range *e.devices {
		fmt.Fprintf(&b, "device %s (user %s):\n%s", d.name, d.user, d.wire.dump())
	}
	return b.String()
}

// user returns a user id unique to this run and scenario.
func (e *env) user(label string) string {
	return fmt.Sprintf("%s-%s-%s", e.scenario, label, uuid.NewString()[:8])
}

// token mints an HS256 JWT like go-oversync's example auth: `sub` = user id.
func (e *env) token(userID string) (string, error) {
	return e.signToken(userID, time.Now(), time.Hour, e.secret)
}

// signToken signs an HS256 token for userID issued at issued, valid for ttl (negative: expired).
func (e *env) signToken(userID string, issued time.Time, ttl time.Duration, secret []byte) (string, error) {
	claims := jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(issued),
		NotBefore: jwt.NewNumericDate(issued.Add(-5 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(issued.Add(ttl)),
		Issuer:    "oversqlite-interop",
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// localDDL is the device side of go-oversync's example schema, as its own tests write it: UUID
// keys as TEXT, except files / file_reviews whose keys are 16-byte BLOBs.
var localDDL = []string{
	`CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, created_at TEXT, updated_at TEXT)`,
	`CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT NOT NULL, content TEXT NOT NULL,
		author_id TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED, created_at TEXT, updated_at TEXT)`,
	`CREATE TABLE categories (id TEXT PRIMARY KEY, name TEXT NOT NULL,
		parent_id TEXT REFERENCES categories(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)`,
	`CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL,
		captain_member_id TEXT REFERENCES team_members(id) DEFERRABLE INITIALLY DEFERRED)`,
	`CREATE TABLE team_members (id TEXT PRIMARY KEY, name TEXT NOT NULL,
		team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)`,
	`CREATE TABLE files (id BLOB PRIMARY KEY NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL)`,
	`CREATE TABLE file_reviews (id BLOB PRIMARY KEY NOT NULL, review TEXT NOT NULL,
		file_id BLOB NOT NULL REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED)`,
	`CREATE TABLE typed_rows (id TEXT PRIMARY KEY, name TEXT NOT NULL, note TEXT, count_value INTEGER,
		enabled_flag INTEGER NOT NULL, rating REAL, data BLOB, created_at TEXT)`,
}

// exampleTables are the 8 tables, in go-oversync's example server registration order.
var exampleTables = []string{"users", "posts", "categories", "teams", "team_members", "files", "file_reviews", "typed_rows"}

func exampleConfig() *oversqlite.Config {
	tables := make([]oversqlite.SyncTable, 0, len(exampleTables))
	for _, t := range exampleTables {
		tables = append(tables, oversqlite.SyncTable{TableName: t, SyncKeyColumnName: "id"})
	}
	cfg := oversqlite.DefaultConfig("business", tables)
	cfg.RetryPolicy = &oversqlite.RetryPolicy{Enabled: false}
	cfg.BackoffMin = 50 * time.Millisecond
	cfg.BackoffMax = 500 * time.Millisecond
	return cfg
}

// device is one install of an app using go-oversync's client: a SQLite file and a client on it.
type device struct {
	e      *env
	name   string
	user   string
	path   string
	db     *sql.DB
	client *oversqlite.Client
	cfg    *oversqlite.Config
	// tokenUser is read by the token provider, so a user switch needs no new provider.
	tokenUser atomic.Value
	wire      *recordingTransport
	// url is the server this device talks to.
	url string
	// badTokens, when set, replaces the token provider (expired or forged tokens).
	badTokens atomic.Value
}

var deviceCounter atomic.Int64

// newDevice creates a fresh SQLite file with the example schema and opens the Go client on it
// (not attached yet).
func (e *env) newDevice(ctx context.Context, name string, configure ...func(*oversqlite.Config)) (*device, error) {
	return e.newDeviceAt(ctx, e.serverURL, name, configure...)
}

// newDeviceAt is newDevice against the server at url.
func (e *env) newDeviceAt(ctx context.Context, url, name string, configure ...func(*oversqlite.Config)) (*device, error) {
	path := filepath.Join(e.dir, fmt.Sprintf("%s-%s-%d.db", e.scenario, name, deviceCounter.Add(1)))
	d := &device{e: e, name: name, path: path, wire: newRecordingTransport(), url: url}
	if err := d.openDB(); err != nil {
		return nil, err
	}
	for _, stmt := range localDDL {
		if _, err := d.db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("%s: local DDL: %w", name, err)
		}
	}
	d.cfg = exampleConfig()
	for _, f := range configure {
		f(d.cfg)
	}
	*e.devices = append(*e.devices, d)
	if err := d.openClient(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *device) openDB() error {
	db, err := sql.Open("sqlite3", "file:"+d.path+"?_foreign_keys=1&_busy_timeout=5000")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	d.db = db
	return nil
}

func (d *device) openClient(ctx context.Context) error {
	tok := func(context.Context) (string, error) {
		u, _ := d.tokenUser.Load().(string)
		if u == "" {
			return "", errors.New("device has no signed-in user")
		}
		if bad, _ := d.badTokens.Load().(func(string) (string, error)); bad != nil {
			return bad(u)
		}
		return d.e.token(u)
	}
	c, err := oversqlite.NewClient(d.db, d.url, tok, d.cfg)
	if err != nil {
		return fmt.Errorf("%s: NewClient: %w", d.name, err)
	}
	if err := c.Open(ctx); err != nil {
		_ = c.Close()
		return fmt.Errorf("%s: Open: %w", d.name, err)
	}
	c.HTTP = &http.Client{Transport: d.wire}
	d.client = c
	return nil
}

// attach signs the device in as user and attaches it, waiting out `retry_later` answers.
func (d *device) attach(ctx context.Context, user string) (oversqlite.AttachResult, error) {
	d.user = user
	d.tokenUser.Store(user)
	for {
		res, err := d.client.Attach(ctx, user)
		if err != nil {
			return res, fmt.Errorf("%s: Attach(%s): %w", d.name, user, err)
		}
		if res.Status == oversqlite.AttachStatusConnected {
			return res, nil
		}
		wait := res.RetryAfter
		if wait <= 0 || wait > 2*time.Second {
			wait = 200 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%s: Attach(%s) still %s: %w", d.name, user, res.Status, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// restart closes the client and its database handle as a killed app would lose them, then opens
// both again on the same file (and attaches again when the device was attached).
func (d *device) restart(ctx context.Context) error {
	d.shutdown()
	if err := d.openDB(); err != nil {
		return err
	}
	if err := d.openClient(ctx); err != nil {
		return err
	}
	if d.user != "" {
		if _, err := d.attach(ctx, d.user); err != nil {
			return err
		}
	}
	return nil
}

func (d *device) shutdown() {
	if d.client != nil {
		_ = d.client.Close()
		d.client = nil
	}
	if d.db != nil {
		_ = d.db.Close()
		d.db = nil
	}
}

func (d *device) exec(ctx context.Context, query string, args ...any) error {
	if _, err := d.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("%s: %s: %w", d.name, firstLine(query), err)
	}
	return nil
}

func (d *device) push(ctx context.Context) (oversqlite.PushReport, error) {
	r, err := d.client.PushPending(ctx)
	if err != nil {
		return r, fmt.Errorf("%s: PushPending: %w", d.name, err)
	}
	return r, nil
}

func (d *device) pull(ctx context.Context) (oversqlite.RemoteSyncReport, error) {
	r, err := d.client.PullToStable(ctx)
	if err != nil {
		return r, fmt.Errorf("%s: PullToStable: %w", d.name, err)
	}
	return r, nil
}

func (d *device) sync(ctx context.Context) (oversqlite.SyncReport, error) {
	r, err := d.client.Sync(ctx)
	if err != nil {
		return r, fmt.Errorf("%s: Sync: %w", d.name, err)
	}
	return r, nil
}

func (d *device) count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, err
}

// pending is the number of local changes not yet on the server.
func (d *device) pending(ctx context.Context) (int64, error) {
	st, err := d.client.PendingSyncStatus(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: PendingSyncStatus: %w", d.name, err)
	}
	return st.PendingRowCount, nil
}

func (d *device) requireNoPending(ctx context.Context) error {
	n, err := d.pending(ctx)
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("%s: %d rows still pending after sync", d.name, n)
	}
	return nil
}

// tableRows is a table's rows by key, each a column → normalized value text.
type tableRows map[string]map[string]string

const nullText = "<NULL>"

// readLocal reads a table of the device's SQLite, normalizing values (see normalize).
func (d *device) readLocal(ctx context.Context, table string) (tableRows, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT * FROM `+table)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", d.name, table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := tableRows{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := map[string]string{}
		for i, c := range cols {
			row[c] = normalize(c, vals[i])
		}
		out[row["id"]] = row
	}
	return out, rows.Err()
}

// readServer reads a table of our server's PostgreSQL for one user (scope), normalized alike.
func (e *env) readServer(ctx context.Context, table, user string) (tableRows, error) {
	rows, err := e.pg.Query(ctx, `SELECT * FROM business.`+table+` WHERE _sync_scope_id = $1`, user)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL read %s: %w", table, err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	out := tableRows{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := map[string]string{}
		for i, f := range fields {
			if f.Name == "_sync_scope_id" {
				continue
			}
			row[f.Name] = normalize(f.Name, vals[i])
		}
		out[row["id"]] = row
	}
	return out, rows.Err()
}

// normalize renders a value so that SQLite and PostgreSQL representations of the same value
// compare equal: UUIDs lowercase (16-byte BLOB keys as UUID text), integers in decimal, reals in
// shortest round-trip form, bytes in hex, timestamps as their UTC instant.
func normalize(column string, v any) string {
	isKey := column == "id" || strings.HasSuffix(column, "_id")
	isTime := strings.HasSuffix(column, "_at")
	switch x := v.(type) {
	case nil:
		return nullText
	case [16]byte:
		return uuid.UUID(x).String()
	case []byte:
		if isKey && len(x) == 16 {
			return uuid.UUID(x).String()
		}
		return "x'" + hex.EncodeToString(x) + "'"
	case string:
		if isKey {
			if u, err := uuid.Parse(x); err == nil {
				return u.String()
			}
		}
		if isTime {
			if t, ok := parseTime(x); ok {
				return t.UTC().Format(time.RFC3339Nano)
			}
		}
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
		return "r" + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprintf("%T:%v", v, v)
	}
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// diffRows describes how two normalized tables differ (empty when equal).
func diffRows(leftName string, left tableRows, rightName string, right tableRows) string {
	var out []string
	keys := map[string]bool{}
	for k := range left {
		keys[k] = true
	}
	for k := range right {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		l, lok := left[k]
		r, rok := right[k]
		switch {
		case !lok:
			out = append(out, fmt.Sprintf("row %s only in %s", k, rightName))
		case !rok:
			out = append(out, fmt.Sprintf("row %s only in %s", k, leftName))
		default:
			cols := make([]string, 0, len(l))
			for c := range l {
				cols = append(cols, c)
			}
			sort.Strings(cols)
			for _, c := range cols {
				if rv, ok := r[c]; ok && rv != l[c] {
					out = append(out, fmt.Sprintf("row %s column %s: %s has %q, %s has %q", k, c, leftName, l[c], rightName, rv))
				}
			}
		}
		if len(out) > 8 {
			out = append(out, "…")
			break
		}
	}
	return strings.Join(out, "; ")
}

// localReader is anything whose local tables can be read normalized: a Go device or our client.
type localReader interface {
	readLocal(ctx context.Context, table string) (tableRows, error)
}

// converged checks that every device holds exactly the server's rows of their user, table by table.
func (e *env) converged(ctx context.Context, devices ...*device) error {
	for _, d := range devices {
		if err := e.matchesServer(ctx, d.name, d.user, d, nil); err != nil {
			return err
		}
	}
	return nil
}

// matchesServer compares every example table of one reader with PostgreSQL for user; skip may
// drop known differences from both sides first (table, row) before comparing.
func (e *env) matchesServer(ctx context.Context, name, user string, r localReader, skip func(table string, row map[string]string)) error {
	for _, table := range exampleTables {
		server, err := e.readServer(ctx, table, user)
		if err != nil {
			return err
		}
		local, err := r.readLocal(ctx, table)
		if err != nil {
			return err
		}
		if skip != nil {
			for _, rows := range []tableRows{server, local} {
				for _, row := range rows {
					skip(table, row)
				}
			}
		}
		if diff := diffRows(name, local, "PostgreSQL", server); diff != "" {
			return fmt.Errorf("%s.%s differs: %s", name, table, diff)
		}
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func newID() string { return uuid.NewString() }

// blobID is a UUID as the 16 bytes a BLOB key column stores.
func blobID() (string, []byte) {
	u := uuid.New()
	b := u[:]
	return u.String(), b
}

func expect(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}
