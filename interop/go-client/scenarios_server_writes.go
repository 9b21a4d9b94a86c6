package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

type writeStatement struct {
	SQL    string `json:"sql"`
	Params []any  `json:"params,omitempty"`
}

// writeAs asks our lane's server for a server-originated bundle of user (sync.writeAs).
func (e *env) writeAs(ctx context.Context, user string, statements ...writeStatement) error {
	body, err := json.Marshal(map[string]any{"user": user, "statements": statements})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.serverURL+"/interop/write-as", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Interop-Secret", string(e.secret))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("write-as: %d %s", resp.StatusCode, text)
	}
	return nil
}

// server-originated-write: bundles the server writes on a user's behalf (sync.writeAs) reach the
// Go client in its dialect: PostgreSQL-side values (a zoned timestamp, bytea, double, bigint),
// an update of a row the device pushed, and a delete; the device's edits on top commit.
func scenarioServerOriginatedWrite(ctx context.Context, e *env) error {
	a, b, err := twoDevices(ctx, e)
	if err != nil {
		return err
	}
	uid, err := insertUserWithPosts(ctx, a, "owner", 1)
	if err != nil {
		return err
	}
	doomed := newID()
	if err := a.exec(ctx, `INSERT INTO typed_rows(id, name, enabled_flag) VALUES (?, 'doomed', 0)`, doomed); err != nil {
		return err
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	srvRow := newID()
	if err := e.writeAs(ctx, a.user,
		writeStatement{SQL: `INSERT INTO business.typed_rows (_sync_scope_id, id, name, note, count_value, enabled_flag, rating, data, created_at)
			VALUES ($1, $2, 'from the server', 'srv & <tags> ` + "\u2028" + `', 9007199254740991, 1, 2.5, '\x00ff10'::bytea, '2026-03-24T10:42:11.5-08:00')`, Params: []any{a.user, srvRow}},
		writeStatement{SQL: `UPDATE business.users SET name = 'renamed by the server', updated_at = '2026-06-10T12:00:00+02:00' WHERE _sync_scope_id = $1 AND id = $2`, Params: []any{a.user, uid}},
	); err != nil {
		return err
	}
	for _, d := range []*device{a, b} {
		if _, err := d.pull(ctx); err != nil {
			return err
		}
	}
	if err := e.converged(ctx, a, b); err != nil {
		return fmt.Errorf("after the server's bundle: %w", err)
	}
	if err := b.exec(ctx, `UPDATE typed_rows SET note = 'device edit over the server row' WHERE id = ?`, srvRow); err != nil {
		return err
	}
	if rep, err := b.push(ctx); err != nil {
		return err
	} else if rep.Outcome != "committed" {
		return fmt.Errorf("push over the server's row: outcome %q", rep.Outcome)
	}
	if err := e.writeAs(ctx, a.user, writeStatement{SQL: `DELETE FROM business.typed_rows WHERE _sync_scope_id = $1 AND id = $2`, Params: []any{a.user, doomed}}); err != nil {
		return err
	}
	for _, d := range []*device{a, b} {
		if _, err := d.pull(ctx); err != nil {
			return err
		}
	}
	if n, _ := a.count(ctx, "typed_rows"); n != 1 {
		return fmt.Errorf("device A holds %d typed rows after the server's delete, want 1", n)
	}
	return e.converged(ctx, a, b)
}
