package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
)

// ourClient is our own sync engine running in a Node child process (interop/our-client/main.ts),
// driven line by line, so that a scenario can mix it with go-oversync's client on one server.
type ourClient struct {
	name string
	user string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
}

type ourAnswer struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Code   string          `json:"code"`
}

// newOurClient starts our engine for user over a fresh in-memory database.
func (e *env) newOurClient(ctx context.Context, name, user string) (*ourClient, error) {
	root := os.Getenv("OVERSQLITE_REPO_ROOT")
	if root == "" {
		return nil, errors.New("OVERSQLITE_REPO_ROOT is not set (interop/go-client-lane.mjs sets it)")
	}
	cmd := exec.Command("node", "--import", "tsx", "interop/our-client/main.ts")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "OVERSQLITE_SERVER_URL="+e.serverURL, "JWT_SECRET="+string(e.secret))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start our client: %w", err)
	}
	o := &ourClient{name: name, user: user, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	o.out.Buffer(make([]byte, 1<<20), 64<<20)
	*e.closers = append(*e.closers, o.close)
	if _, err := o.call(ctx, map[string]any{"cmd": "open", "user": user}); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *ourClient) close() {
	_ = o.in.Close()
	_ = o.cmd.Wait()
}

// call sends one command and waits for its answer.
func (o *ourClient) call(ctx context.Context, command map[string]any) (json.RawMessage, error) {
	line, err := json.Marshal(command)
	if err != nil {
		return nil, err
	}
	if _, err := o.in.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("%s: write %s: %w", o.name, command["cmd"], err)
	}
	got := make(chan error, 1)
	var answer ourAnswer
	go func() {
		if !o.out.Scan() {
			got <- fmt.Errorf("%s: our client exited (%v)", o.name, o.out.Err())
			return
		}
		got <- json.Unmarshal(o.out.Bytes(), &answer)
	}()
	select {
	case err := <-got:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %s: %w", o.name, command["cmd"], ctx.Err())
	}
	if !answer.OK {
		return nil, fmt.Errorf("%s: %s: %s (code %s)", o.name, command["cmd"], answer.Error, answer.Code)
	}
	return answer.Result, nil
}

func (o *ourClient) exec(ctx context.Context, sql string) error {
	_, err := o.call(ctx, map[string]any{"cmd": "exec", "sql": sql})
	return err
}

// readLocal reads a table of our client's SQLite, normalized like device.readLocal.
func (o *ourClient) readLocal(ctx context.Context, table string) (tableRows, error) {
	raw, err := o.call(ctx, map[string]any{"cmd": "rows", "table": table})
	if err != nil {
		return nil, err
	}
	var rows []map[string][2]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, err
	}
	out := tableRows{}
	for _, r := range rows {
		row := map[string]string{}
		for col, tv := range r {
			var kind string
			if err := json.Unmarshal(tv[0], &kind); err != nil {
				return nil, err
			}
			var v any
			switch kind {
			case "null":
				v = nil
			case "integer":
				var s string
				if err := json.Unmarshal(tv[1], &s); err != nil {
					return nil, err
				}
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, err
				}
				v = n
			case "real":
				var f float64
				if err := json.Unmarshal(tv[1], &f); err != nil {
					return nil, err
				}
				v = f
			case "blob":
				var s string
				if err := json.Unmarshal(tv[1], &s); err != nil {
					return nil, err
				}
				b, err := hex.DecodeString(s)
				if err != nil {
					return nil, err
				}
				v = b
			default:
				var s string
				if err := json.Unmarshal(tv[1], &s); err != nil {
					return nil, err
				}
				v = s
			}
			row[col] = normalize(col, v)
		}
		out[row["id"]] = row
	}
	return out, nil
}
