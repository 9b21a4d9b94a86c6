package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mobiletoly/go-oversync/oversqlite"
)

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
	return watchSubscribersAt(ctx, e.serverURL, user)
}

// watchSubscribersAt asks the server process at base for its count of user's watch streams.
func watchSubscribersAt(ctx context.Context, base, user string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/test/watch-subscribers?user_id="+url.QueryEscape(user), nil)
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

// two-server-processes: two processes of our server on one database; a device on each converges,
// and a watcher on the second process wakes up for a bundle pushed through the first
// (PostgreSQL LISTEN/NOTIFY between the processes).
func scenarioTwoServerProcesses(ctx context.Context, e *env) error {
	if e.serverURL2 == "" {
		return fmt.Errorf("no second server process (OVERSQLITE_SERVER_URL_2 is unset)")
	}
	user := e.user("u")
	a, err := e.newDevice(ctx, "A@1")
	if err != nil {
		return err
	}
	w, err := e.newDeviceAt(ctx, e.serverURL2, "W@2", func(c *oversqlite.Config) {
		c.BundleChangeWatchMode = oversqlite.BundleChangeWatchAuto
		c.WatchFallbackInterval = 60 * time.Second
		c.BackoffMin = 30 * time.Second
		c.BackoffMax = 60 * time.Second
	})
	if err != nil {
		return err
	}
	for _, d := range []*device{a, w} {
		if _, err := d.attach(ctx, user); err != nil {
			return err
		}
	}
	w.client.PauseUploads()
	loops, stop := context.WithCancel(ctx)
	defer stop()
	if err := w.client.Start(loops); err != nil {
		return err
	}
	select {
	case <-w.wire.watchOpened:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the watcher on process 2 never opened its stream")
	}
	if n, err := watchSubscribersAt(ctx, e.serverURL2, user); err != nil || n != 1 {
		return fmt.Errorf("process 2 reports %d watch subscribers (%v), want 1", n, err)
	}
	uid, err := insertUserWithPosts(ctx, a, "across processes", 2)
	if err != nil {
		return err
	}
	pushed := time.Now()
	if _, err := a.push(ctx); err != nil {
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
			return fmt.Errorf("the watcher on process 2 did not apply the bundle pushed through process 1 within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	// A write through process 2 reaches the device on process 1.
	b, err := e.newDeviceAt(ctx, e.serverURL2, "B@2")
	if err != nil {
		return err
	}
	if _, err := b.attach(ctx, user); err != nil {
		return err
	}
	if err := b.exec(ctx, `UPDATE users SET name = 'edited through process 2' WHERE id = ?`, uid); err != nil {
		return err
	}
	if err := pushThenPull(ctx, e, b, a); err != nil {
		return err
	}
	return e.converged(ctx, a, b)
}
