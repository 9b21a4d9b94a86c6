// Command go-server runs go-oversync's own example server (examples/nethttp_server, commit
// 1f1118f) on a chosen address, so that our client can be tested against the real peer.
// It imports the example's server package (SetupServer); nothing of it is copied here.
//
// Flags (each falls back to an environment variable):
//
//	-addr   listen address (ADDR, default 127.0.0.1:8080); port 0 picks a free port
//	-db     PostgreSQL URL (DATABASE_URL, required)
//	-secret JWT HMAC secret (JWT_SECRET, required)
//
// Once listening it prints one line `LISTENING <host:port>` on stdout, which the test harness
// waits for. SIGINT/SIGTERM shut it down.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mobiletoly/go-oversync/examples/nethttp_server/server"
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	addr := flag.String("addr", envOr("ADDR", "127.0.0.1:8080"), "listen address (port 0: any free port)")
	databaseURL := flag.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL")
	secret := flag.String("secret", os.Getenv("JWT_SECRET"), "JWT HMAC secret")
	verbose := flag.Bool("v", os.Getenv("GO_SERVER_VERBOSE") != "", "log requests (JSON lines on stderr)")
	flag.Parse()
	if *databaseURL == "" || *secret == "" {
		fmt.Fprintln(os.Stderr, "go-server: -db (DATABASE_URL) and -secret (JWT_SECRET) are required")
		os.Exit(2)
	}

	// The example logs every request at DEBUG; by default keep only warnings and errors.
	level := slog.LevelWarn
	var out io.Writer = os.Stderr
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}))

	components, err := server.SetupServer(&server.ServerConfig{
		DatabaseURL: *databaseURL,
		JWTSecret:   *secret,
		Logger:      logger,
		AppName:     "oversqlite-interop-go-server",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-server: setup failed: %v\n", err)
		os.Exit(1)
	}
	defer components.Close()

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-server: listen %s: %v\n", *addr, err)
		os.Exit(1)
	}
	httpServer := &http.Server{Handler: components.Handler, ReadTimeout: 120 * time.Second, IdleTimeout: 60 * time.Second}
	go func() {
		if err := httpServer.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "go-server: serve: %v\n", err)
			os.Exit(1)
		}
	}()
	fmt.Printf("LISTENING %s\n", listener.Addr().String())

	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGINT, syscall.SIGTERM)
	<-quit
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = httpServer.Shutdown(ctx)
}
