package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

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
