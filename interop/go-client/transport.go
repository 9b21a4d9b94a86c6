package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// exchange is one HTTP request/response of a device, kept so that a failing scenario can show
// exactly what went over the wire.
type exchange struct {
	method, path string
	status       int
	request      string
	response     string
}

// recordingTransport passes requests through and remembers the recent ones (bodies truncated);
// the watch stream's body is left alone, and its 200 answer is signalled on watchOpened.
type recordingTransport struct {
	mu          sync.Mutex
	recent      []exchange
	watchOpened chan struct{}
	// failures counts non-2xx answers by "<status> <path kind>: <body>" prefix, for assertions.
	failures []string
}

const keepExchanges = 8
const keepBody = 1500

func newRecordingTransport() *recordingTransport {
	return &recordingTransport{watchOpened: make(chan struct{}, 16)}
}

func clip(b []byte) string {
	if len(b) > keepBody {
		return string(b[:keepBody]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	x := exchange{method: r.Method, path: r.URL.RequestURI()}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		x.request = clip(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		x.response = "transport error: " + err.Error()
		t.add(x)
		return nil, err
	}
	x.status = resp.StatusCode
	if strings.HasSuffix(r.URL.Path, "/sync/watch") {
		x.response = "(event stream)"
		if resp.StatusCode == http.StatusOK {
			select {
			case t.watchOpened <- struct{}{}:
			default:
			}
		}
	} else {
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		x.response = clip(body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	t.add(x)
	return resp, nil
}

func (t *recordingTransport) add(x exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if x.status >= 300 {
		t.failures = append(t.failures, fmt.Sprintf("%d %s %s", x.status, x.path, x.response))
	}
	t.recent = append(t.recent, x)
	if len(t.recent) > keepExchanges {
		t.recent = t.recent[len(t.recent)-keepExchanges:]
	}
}

// failed reports the non-2xx answers whose text contains want.
func (t *recordingTransport) failed(want string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, f := range t.failures {
		if strings.Contains(f, want) {
			out = append(out, f)
		}
	}
	return out
}

// dump renders the recent exchanges for a failure report.
func (t *recordingTransport) dump() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, x := range t.recent {
		fmt.Fprintf(&b, "  > %s %s\n", x.method, x.path)
		if x.request != "" {
			fmt.Fprintf(&b, "    %s\n", x.request)
		}
		fmt.Fprintf(&b, "  < %d %s\n", x.status, x.response)
	}
	return b.String()
}
