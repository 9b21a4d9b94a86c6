// Command go-client runs go-oversync's own Go SQLite client (`oversqlite`, commit 1f1118f) against
// an oversqlite sync server serving go-oversync's example schema, one named scenario at a time.
//
// Each scenario prints one line on stdout:
//
//	OVERSQLITE_INTEROP_RESULT {"scenario":"…","result":"pass"|"FAIL","ms":…,"detail":"…"}
//
// Everything else goes to stderr. Env: OVERSQLITE_SERVER_URL (our server), OVERSQLITE_DATABASE_URL
// (its PostgreSQL database, read directly to check convergence), JWT_SECRET (HS256, the same
// secret the server checks). Flag -run selects scenarios by regular expression.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"time"
)

// scenario is one named behaviour of the Go client against our server.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env) error
	// direction and dialect, when set, replace the lane's defaults in the result table.
	direction, dialect string
	// oursOnly: the scenario checks what only our server does (skipped with -reference).
	oursOnly bool
}

// scenarios, in priority order; each uses its own user ids, so they share one server and database.
var scenarios = []scenario{
	{name: "attach-and-seed", run: scenarioAttachAndSeed},
	{name: "push-pending", run: scenarioPushPending},
	{name: "pull-to-stable", run: scenarioPullToStable},
	{name: "two-devices-converge", run: scenarioTwoDevicesConverge},
	{name: "value-families", run: scenarioValueFamilies},
	{name: "rebuild-fresh-install", run: scenarioRebuildFreshInstall},
	{name: "restart-after-commit", run: scenarioRestartAfterCommit},
	{name: "restart-before-commit", run: scenarioRestartBeforeCommit},
	{name: "multi-chunk-upload", run: scenarioMultiChunkUpload},
	{name: "conflict-server-wins", run: scenarioConflictServerWins},
	{name: "conflict-client-wins", run: scenarioConflictClientWins},
	{name: "conflict-custom-resolver", run: scenarioConflictCustomResolver},
	{name: "fk-self-reference-cascade", run: scenarioFKSelfReferenceCascade},
	{name: "fk-cycle-teams", run: scenarioFKCycleTeams},
	{name: "fk-blob-keys-cascade", run: scenarioFKBlobKeysCascade},
	{name: "device-replacement", run: scenarioDeviceReplacement},
	{name: "detach-and-user-switch", run: scenarioDetachAndUserSwitch},
	{name: "watch-wakeup", run: scenarioWatchWakeup},
	{name: "two-server-processes", run: scenarioTwoServerProcesses, oursOnly: true},
	{name: "concurrent-first-attach", run: scenarioConcurrentFirstAttach},
	{name: "history-pruned", run: scenarioHistoryPruned, oursOnly: true},
	{name: "timestamp-nanoseconds", run: scenarioTimestampNanoseconds},
	{name: "auth-refused-then-recovered", run: scenarioAuthRefusedThenRecovered},
	{name: "row-lifecycle", run: scenarioRowLifecycle},
	{name: "server-originated-write", run: scenarioServerOriginatedWrite, oursOnly: true},
	{name: "large-blob", run: scenarioLargeBlob},
	{name: "mixed-dialects-one-server", run: scenarioMixedDialects, direction: "Go client + oversqlite client → oversqlite server", dialect: "1f1118f numbers + numeric strings", oursOnly: true},
}

type resultLine struct {
	Scenario  string `json:"scenario"`
	Result    string `json:"result"`
	Ms        int64  `json:"ms"`
	Direction string `json:"direction,omitempty"`
	Dialect   string `json:"dialect,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func main() {
	runFilter := flag.String("run", "", "regular expression selecting scenarios by name")
	perScenario := flag.Duration("timeout", 60*time.Second, "time limit of one scenario")
	list := flag.Bool("list", false, "print the scenario names and exit")
	reference := flag.Bool("reference", false, "the server is go-oversync's own example server: skip what only ours does")
	flag.Parse()
	if *list {
		for _, s := range scenarios {
			fmt.Println(s.name)
		}
		return
	}
	var filter *regexp.Regexp
	if *runFilter != "" {
		filter = regexp.MustCompile(*runFilter)
	}

	e, err := newEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		os.Exit(2)
	}
	defer e.close()
	e.reference = *reference

	failed := 0
	for _, s := range scenarios {
		if filter != nil && !filter.MatchString(s.name) {
			continue
		}
		if *reference && s.oursOnly {
			continue
		}
		started := time.Now()
		err := runOne(s, e, *perScenario)
		line := resultLine{Scenario: s.name, Result: "pass", Ms: time.Since(started).Milliseconds(), Direction: s.direction, Dialect: s.dialect}
		if err != nil {
			failed++
			line.Result = "FAIL"
			line.Detail = err.Error()
			fmt.Fprintf(os.Stderr, "go-client: %s FAILED: %v\n", s.name, err)
		}
		out, _ := json.Marshal(line)
		fmt.Printf("OVERSQLITE_INTEROP_RESULT %s\n", out)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// runOne runs a scenario with a deadline and turns a panic into a failure, so one broken scenario
// never hides the others.
func runOne(s scenario, e *env, limit time.Duration) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	scoped := e.forScenario(s.name)
	defer scoped.cleanup()
	defer func() {
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-client: %s: recent HTTP exchanges:\n%s", s.name, scoped.wireLog())
		}
	}()
	return s.run(ctx, scoped)
}
