package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi/apitest"
	"github.com/accountkit/cancellation/internal/docfixtures"
)

// server is the example server running as a process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	tokens map[string]string
	client *http.Client

	mu     sync.Mutex
	stderr []string
	logged chan struct{}
	// readers end when the process closes its stdout and stderr; Wait
	// must come after them, or it may close the pipes under them.
	readers sync.WaitGroup
}

// startServer builds the example server and runs it on a free loopback
// port with a SQLite file of the test.
func startServer(t *testing.T) *server {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-dsn", "sqlite:"+filepath.Join(dir, "api.db"), "-maintenance", "200ms")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &server{t: t, cmd: cmd, tokens: map[string]string{}, logged: make(chan struct{}, 1)}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	s.readers.Add(1)
	go func() {
		defer s.readers.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr = append(s.stderr, sc.Text())
			s.mu.Unlock()
			select {
			case s.logged <- struct{}{}:
			default:
			}
		}
	}()
	exports := regexp.MustCompile(`^export (TOKEN_[A-Z]+)=(\S+)`)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if m := exports.FindStringSubmatch(line); m != nil {
			s.tokens[m[1]] = m[2]
		}
		if rest, ok := strings.CutPrefix(line, "listening on "); ok {
			s.url, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	require.NotEmpty(t, s.url, "the server said where it listens; stderr: %v", s.stderr)
	s.readers.Go(func() { _, _ = io.Copy(io.Discard, stdout) })
	v, err := apitest.New(t.Context())
	require.NoError(t, err)
	s.client = &http.Client{Timeout: 30 * time.Second, Transport: &apitest.Transport{Validator: v, Fail: t.Errorf}}
	return s
}

// logLine waits for a stderr line that matches re and returns its
// submatches.
func (s *server) logLine(re *regexp.Regexp) []string {
	s.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for i := len(s.stderr) - 1; i >= 0; i-- {
			if m := re.FindStringSubmatch(s.stderr[i]); m != nil {
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
		select {
		case <-s.logged:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			s.t.Fatalf("no log line matches %s", re)
		}
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body: %s", a.body)
	return m
}

// call sends a request with the standard client; headers come in pairs.
func (s *server) call(method, path, token string, body io.Reader, headers ...string) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	require.NoError(s.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[token])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	return answer{status: res.StatusCode, header: res.Header, body: data}
}

func (s *server) post(path, token, body string, headers ...string) answer {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return s.call(http.MethodPost, path, token, rd, headers...)
}

func (s *server) must(a answer, status int) map[string]any {
	s.t.Helper()
	require.Equal(s.t, status, a.status, "body: %s", a.body)
	if strings.Contains(a.header.Get("Content-Type"), "json") {
		return a.decode(s.t)
	}
	return nil
}

// toReview takes an identity-verified account through steps 1 to 5.
func (s *server) toReview(token, phone, kind string) string {
	s.t.Helper()
	notes := s.must(s.call(http.MethodGet, "/v1/notes", token, nil), 200)
	key := "start-" + token
	started := s.post("/v1/cancellations", token, "", "Idempotency-Key", key)
	req := s.must(started, 201)
	id := req["id"].(string)
	require.Equal(s.t, "/v1/cancellations/"+id, started.header.Get("Location"))

	// The same POST again, as a client retries after a lost answer: the
	// first answer is replayed, no second request is opened.
	replay := s.post("/v1/cancellations", token, "", "Idempotency-Key", key)
	require.Equal(s.t, 201, replay.status)
	require.Equal(s.t, string(started.body), string(replay.body))
	require.Equal(s.t, "true", replay.header.Get("Idempotent-Replayed"))

	conf := fmt.Sprintf(`{"notes_version":%q,"irreversible":true,"attestations":{"backup_done_or_waived":true,"not_evading":true,"other_matters_handled":true}}`, notes["version"])
	s.must(s.post("/v1/cancellations/"+id+"/confirmation", token, conf, "If-Match", started.header.Get("ETag")), 200)
	s.must(s.post("/v1/cancellations/"+id+"/code", token, ""), 202)
	code := s.logLine(regexp.MustCompile(`msg="one-time code sent" phone=` + regexp.QuoteMeta(phone) + ` code=(\d+)`))[1]
	s.must(s.post("/v1/cancellations/"+id+"/code/verify", token, `{"code":"`+code+`"}`), 200)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(s.t, mw.WriteField("kind", kind))
	fw, err := mw.CreateFormFile("file", "scan.jpg")
	require.NoError(s.t, err)
	_, err = fw.Write(docfixtures.JPEG(docfixtures.ColourIDCard(1200, 800), 90))
	require.NoError(s.t, err)
	require.NoError(s.t, mw.Close())
	doc := s.must(s.call(http.MethodPost, "/v1/cancellations/"+id+"/documents", token, &buf, "Content-Type", mw.FormDataContentType()), 201)
	require.Equal(s.t, kind, doc["kind"])

	sub := s.must(s.post("/v1/cancellations/"+id+"/submit", token, ""), 200)
	require.Equal(s.t, "in_review", sub["state"])
	return id
}

// TestServer_EndToEnd runs the example server as a process and drives it
// over real HTTP with the standard client, every answer checked against
// openapi.yaml: a whole cancellation of the identity-verified person
// (document upload included), a blocked account reading its remedies, a
// rejection, a replayed POST and a stale If-Match; then a graceful stop.
func TestServer_EndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(s.url + p)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, p)
	}

	// A blocked account reads its remedies.
	el := s.must(s.call(http.MethodGet, "/v1/eligibility", "TOKEN_BLOCKED", nil), 200)
	require.Equal(t, "blocked", el["outcome"])
	refused := s.post("/v1/cancellations", "TOKEN_BLOCKED", "")
	p := s.must(refused, 422)
	require.Equal(t, "not_eligible", p["code"])
	for _, f := range p["findings"].([]any) {
		remedy := f.(map[string]any)["remedy"].(map[string]any)
		require.NotEmpty(t, remedy["action"])
	}

	// The identity-verified person, from start to cancelled.
	id := s.toReview("TOKEN_VERIFIED", "+15550100002", "passport")
	queue := s.must(s.call(http.MethodGet, "/v1/reviews", "TOKEN_REVIEWER", nil), 200)
	require.NotEmpty(t, queue["items"])
	review := s.call(http.MethodGet, "/v1/reviews/"+id, "TOKEN_REVIEWER", nil)
	rv := s.must(review, 200)
	require.Equal(t, true, rv["history_verified"])
	img := s.call(http.MethodGet, "/v1/reviews/"+id+"/documents/passport", "TOKEN_REVIEWER", nil)
	require.Equal(t, 200, img.status)
	require.Equal(t, "no-store", img.header.Get("Cache-Control"))

	// A stale If-Match: the customer's view changed since this tag.
	stale := s.post("/v1/cancellations/"+id+"/withdraw", "TOKEN_VERIFIED", "", "If-Match", `"1"`)
	require.Equal(t, "precondition_failed", s.must(stale, 412)["code"])

	// The reviewer claims it before deciding: without the claim the
	// decision is refused. Claiming is staff activity: the ETag read
	// before it still matches.
	require.Equal(t, "claim_required", s.must(s.post("/v1/reviews/"+id+"/approve", "TOKEN_REVIEWER", `{}`), 403)["code"])
	s.must(s.post("/v1/reviews/"+id+"/claim", "TOKEN_REVIEWER", ""), 200)
	s.must(s.post("/v1/reviews/"+id+"/approve", "TOKEN_REVIEWER", `{"note":"documents match"}`, "If-Match", review.header.Get("ETag")), 200)
	done := s.must(s.call(http.MethodGet, "/v1/cancellations/"+id, "TOKEN_VERIFIED", nil), 200)
	require.Equal(t, "cancelled", done["state"])
	s.logLine(regexp.MustCompile(`msg="notification sent" channel=sms .*template=cancelled account=acct-verified`))

	// A rejection, with reason codes.
	eid := s.toReview("TOKEN_ENTERPRISE", "+15550100003", "business_licence")
	// A senior decides without claiming.
	rej := s.must(s.post("/v1/reviews/"+eid+"/reject", "TOKEN_SENIOR", `{"reasons":["identity_mismatch"],"note":"name differs"}`), 200)
	require.Equal(t, "rejected", rej["state"])
	cust := s.must(s.call(http.MethodGet, "/v1/cancellations/"+eid, "TOKEN_ENTERPRISE", nil), 200)
	require.Equal(t, []any{"identity_mismatch"}, cust["decision"].(map[string]any)["reasons"])
	require.NotContains(t, string(s.call(http.MethodGet, "/v1/cancellations/"+eid, "TOKEN_ENTERPRISE", nil).body), "name differs", "the reviewer's note is not the customer's")

	// Graceful stop.
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() {
		s.readers.Wait()
		exited <- s.cmd.Wait()
	}()
	select {
	case err := <-exited:
		require.NoError(t, err, "the server exits cleanly on SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop on SIGTERM")
	}
	s.logLine(regexp.MustCompile(`msg=stopped`))
}

// TestWriteSample: -write-sample writes a scan the inspector accepts.
func TestWriteSample(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "passport.jpg")
	require.NoError(t, run(t.Context(), []string{"-write-sample", path}, io.Discard, io.Discard))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	facts, err := cancellation.InspectDocument(data, cancellation.DocumentLimits{})
	require.NoError(t, err)
	require.Equal(t, cancellation.FormatJPEG, facts.Format)
}

// TestRun_PostgresDSN runs the server in process on a PostgreSQL schema of
// its own: /readyz answers, a request is stored, and cancelling the
// context stops it cleanly.
func TestRun_PostgresDSN(t *testing.T) {
	t.Parallel()
	base := os.Getenv("CANCELLATION_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CANCELLATION_POSTGRES_DSN is not set")
		}
		t.Skip("set CANCELLATION_POSTGRES_DSN to run the PostgreSQL test")
	}
	admin, err := sql.Open("pgx", base) // the driver sqlstore registers
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	schema := fmt.Sprintf("server_test_%d", time.Now().UnixNano())
	_, err = admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-dsn", u.String()}, pw, io.Discard)
		pw.Close()
	}()
	var addr, token string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "export TOKEN_ELIGIBLE="); ok {
			token, _, _ = strings.Cut(v, " ")
		}
		if rest, ok := strings.CutPrefix(line, "listening on "); ok {
			addr, _, _ = strings.Cut(rest, " ")
			require.Contains(t, rest, "postgres://", "the store is named")
			break
		}
	}
	require.NotEmpty(t, addr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	res, err := http.Get(addr + "/readyz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	req, err := http.NewRequest(http.MethodPost, addr+"/v1/cancellations", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var n int
	require.NoError(t, admin.QueryRowContext(t.Context(), "SELECT count(*) FROM "+schema+".cancellation_requests").Scan(&n))
	require.Equal(t, 1, n, "the request is in PostgreSQL")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop")
	}
}
