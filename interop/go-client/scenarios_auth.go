package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// auth-refused-then-recovered: an expired token and a token signed with another secret are
// refused with 401 (nothing committed, nothing lost); with a good token again the same push goes
// through.
func scenarioAuthRefusedThenRecovered(ctx context.Context, e *env) error {
	a, err := e.newDevice(ctx, "A")
	if err != nil {
		return err
	}
	user := e.user("u")
	if _, err := a.attach(ctx, user); err != nil {
		return err
	}
	if _, err := insertUserWithPosts(ctx, a, "keeps its rows", 2); err != nil {
		return err
	}
	bad := map[string]func(string) (string, error){
		"expired": func(u string) (string, error) {
			return e.signToken(u, time.Now().Add(-2*time.Hour), time.Hour, e.secret)
		},
		"forged": func(u string) (string, error) {
			return e.signToken(u, time.Now(), time.Hour, []byte("not-the-server-secret"))
		},
	}
	for _, kind := range []string{"expired", "forged"} {
		a.badTokens.Store(bad[kind])
		_, err := a.client.PushPending(ctx)
		if err == nil {
			return fmt.Errorf("push with an %s token succeeded", kind)
		}
		if !strings.Contains(err.Error(), "401") {
			return fmt.Errorf("push with an %s token: %v, want a 401", kind, err)
		}
		if n, err := a.pending(ctx); err != nil || n != 3 {
			return fmt.Errorf("after the %s token's refusal: %d pending (%v), want 3", kind, n, err)
		}
	}
	a.badTokens.Store((func(string) (string, error))(nil))
	if rows, err := e.readServer(ctx, "posts", user); err != nil || len(rows) != 0 {
		return fmt.Errorf("the server holds %d posts after refused pushes (%v)", len(rows), err)
	}
	if _, err := a.push(ctx); err != nil {
		return err
	}
	if err := a.requireNoPending(ctx); err != nil {
		return err
	}
	return e.converged(ctx, a)
}
