package pkcs11probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
)

// The vendor's library runs in a child process, the hsmwatch binary itself started again
// with ChildEnv=1 in its environment (MaybeChild, at the very start of main and of the
// tests' TestMain, serves it), so that a library that crashes, aborts, exits or hangs takes
// only the child down.
//
// The protocol: the parent writes one request (JSON) on the child's standard input; the
// child answers with JSON objects, one a line, on its standard output (the library's own
// writes to standard output go to standard error: the child moves them there first):
//
//	{"step":"C_GetTokenInfo (slot 1)"}      the call about to be made (for the watchdog)
//	{"line":"Successfully loaded ...\n"}    a -v line of the check (select mode only)
//	{"report":{...},"failed":[...]}         the result: the Report, failed slots with errors
//	{"error":{"message":"...",...}}         or the probe's error
//	{"end":true}                            the library is finalized and unloaded
//
// Anything else (a crash, a signal, an exit without "end", a line that is not such an
// object) is a *ChildError; a context that ends kills the child.

// ChildEnv is the environment variable that makes a process a probe child.
const ChildEnv = "HSMWATCH_PKCS11_CHILD"

// ExeEnv, when set, names the program a zero Spawner runs as the probe child instead of
// this one. Tests set it to an hsmwatch binary built without -race (p11test.ProbeMain):
// a race-instrumented test binary starts slowly and sleeps a second at exit.
const ExeEnv = "HSMWATCH_PKCS11_PROBE_EXE"

// Modes of a child request.
const (
	modeProbe  = "probe"  // Probe: every token (the daemon)
	modeSelect = "select" // Select: the tokens of a Selection, with the check's trace
)

type childRequest struct {
	Mode      string    `json:"mode"`
	Library   string    `json:"library"`
	Selection Selection `json:"selection"`
	Verbosity int       `json:"verbosity"`
}

type childMessage struct {
	Step   string       `json:"step,omitempty"`
	Line   string       `json:"line,omitempty"`
	Report *Report      `json:"report,omitempty"`
	Failed []wireFailed `json:"failed,omitempty"`
	Error  *wireError   `json:"error,omitempty"`
	End    bool         `json:"end,omitempty"`
}

type wireFailed struct {
	Slot  uint      `json:"slot"`
	Error wireError `json:"error"`
}

// wireError carries an error across the pipe; a CallError or LoadError comes back as one.
type wireError struct {
	Message string `json:"message"`
	Func    string `json:"func,omitempty"`
	Slot    *uint  `json:"slot,omitempty"`
	RV      uint   `json:"rv,omitempty"`
	Path    string `json:"path,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func toWire(err error) wireError {
	w := wireError{Message: err.Error()}
	var ce *CallError
	var le *LoadError
	// Only a bare CallError or LoadError is rebuilt: a wrapped one keeps its whole text.
	if errors.As(err, &ce) && ce == err {
		w.Func, w.Slot, w.RV = ce.Func, ce.Slot, ce.RV
	} else if errors.As(err, &le) && le == err {
		w.Path, w.Reason = le.Path, le.Reason
	}
	return w
}

func (w wireError) err() error {
	switch {
	case w.Func != "":
		return &CallError{Func: w.Func, Slot: w.Slot, RV: w.RV}
	case w.Reason != "":
		return &LoadError{Path: w.Path, Reason: w.Reason}
	}
	return errors.New(w.Message)
}

func (m childMessage) empty() bool {
	return m.Step == "" && m.Line == "" && m.Report == nil && m.Error == nil && !m.End
}

func failedToWire(m map[uint]error) []wireFailed {
	var out []wireFailed
	for _, slot := range slices.Sorted(maps.Keys(m)) {
		out = append(out, wireFailed{Slot: slot, Error: toWire(m[slot])})
	}
	return out
}

func failedFromWire(ws []wireFailed) map[uint]error {
	if len(ws) == 0 {
		return nil
	}
	m := make(map[uint]error, len(ws))
	for _, f := range ws {
		m[f.Slot] = f.Error.err()
	}
	return m
}

// MaybeChild serves a probe request and exits when this process was started as a probe
// child (ChildEnv); otherwise it returns at once. Call it first in main, and in the
// TestMain of tests whose code probes libraries (the test binary is then the child).
func MaybeChild() {
	if os.Getenv(ChildEnv) != "1" {
		return
	}
	if err := serveChild(os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "hsmwatch pkcs11 probe child: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveChild answers one request on standard output, which it first moves away from
// file descriptor 1 so that whatever the library prints goes to standard error.
func serveChild(in io.Reader) error {
	fd, err := syscall.Dup(1)
	if err != nil {
		return fmt.Errorf("dup stdout: %w", err)
	}
	if err := syscall.Dup3(2, 1, 0); err != nil {
		return fmt.Errorf("stdout to stderr: %w", err)
	}
	out := os.NewFile(uintptr(fd), "probe-pipe")
	defer out.Close()
	var req childRequest
	if err := json.NewDecoder(in).Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	defaultFatalSignals()
	c := &childConn{enc: json.NewEncoder(out)}
	switch req.Mode {
	case modeProbe:
		r, err := probe(context.Background(), req.Library, func(call string) { c.send(childMessage{Step: call}) })
		if err != nil {
			c.sendErr(err)
		} else {
			c.send(childMessage{Report: &r, Failed: failedToWire(r.Failed)})
		}
	case modeSelect:
		tr := check.NewTrace(lineWriter{c}, req.Verbosity)
		s, err := selectTokens(context.Background(), tr, req.Library, req.Selection, func(call string) { c.send(childMessage{Step: call}) })
		if err != nil {
			c.sendErr(err)
		} else {
			c.send(childMessage{Report: &Report{Library: req.Library, Tokens: s.Tokens}, Failed: failedToWire(s.Failed)})
		}
		s.Close()
	default:
		return fmt.Errorf("unknown mode %q", req.Mode)
	}
	c.send(childMessage{End: true})
	return c.err
}

type childConn struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

func (c *childConn) send(m childMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if err := c.enc.Encode(m); err != nil {
			c.err = fmt.Errorf("writing to the parent: %w", err)
		}
	}
}

func (c *childConn) sendErr(err error) {
	w := toWire(err)
	c.send(childMessage{Error: &w})
}

// lineWriter sends the check's trace lines to the parent.
type lineWriter struct{ c *childConn }

func (w lineWriter) Write(p []byte) (int, error) {
	w.c.send(childMessage{Line: string(p)})
	return len(p), nil
}

// ChildError says the probe child did not give an answer: it crashed, was killed by a
// signal, exited without a result, or wrote something that is not the protocol.
type ChildError struct {
	Library string
	What    string // "killed by signal SIGSEGV", "exited with status 0 without a result"
	Stderr  string // the end of what the child wrote on standard error
}

func (e *ChildError) Error() string {
	return fmt.Sprintf("PKCS#11 library %s: probe process %s", e.Library, e.What)
}

// Spawner starts probe children. The zero value runs this program (os.Executable), or
// the one ExeEnv names.
type Spawner struct {
	// Exe is the program to run as the child; empty means $HSMWATCH_PKCS11_PROBE_EXE,
	// else os.Executable.
	Exe string
	// Env is added to the child's environment (NAME=value): what the library reads its
	// configuration from (SOFTHSM2_CONF, ChrystokiConfigurationPath).
	Env []string
}

// ProbeReport runs Probe in a child process: the whole report, or the probe's error, a
// *ChildError, or a *StuckError when ctx ended first (the child is then killed).
func (sp Spawner) ProbeReport(ctx context.Context, lib string) (Report, error) {
	var rep *Report
	var perr error
	err := sp.run(ctx, childRequest{Mode: modeProbe, Library: lib}, func(m childMessage) {
		switch {
		case m.Report != nil:
			rep = m.Report
			rep.Failed = failedFromWire(m.Failed)
		case m.Error != nil:
			perr = m.Error.err()
		}
	})
	switch {
	case err != nil:
		return Report{}, err
	case perr != nil:
		return Report{Library: lib}, perr
	}
	return *rep, nil
}

// Select runs the package's Select in a child process, replaying its trace on tr (steps
// and lines, in order), and calls eval with the session (without a Module) as soon as the
// child sends it, before the child's closing lines. It returns the selection's error, a
// *ChildError or a *StuckError.
func (sp Spawner) Select(ctx context.Context, tr *check.Trace, lib string, sel Selection, eval func(*Session)) error {
	level := check.Quiet
	for l := check.Verbose; l <= check.Debug; l++ {
		if tr.Enabled(l) {
			level = l
		}
	}
	var serr error
	err := sp.run(ctx, childRequest{Mode: modeSelect, Library: lib, Selection: sel, Verbosity: level}, func(m childMessage) {
		switch {
		case m.Step != "":
			tr.Step("%s", m.Step)
		case m.Line != "":
			tr.Printf(check.Verbose, "%s", m.Line)
		case m.Report != nil:
			eval(&Session{Tokens: m.Report.Tokens, Failed: failedFromWire(m.Failed), tr: tr})
		case m.Error != nil:
			serr = m.Error.err()
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// run starts the child, hands each message to on, and judges how the child ended.
func (sp Spawner) run(ctx context.Context, req childRequest, on func(childMessage)) error {
	exe := sp.Exe
	if exe == "" {
		exe = os.Getenv(ExeEnv)
	}
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("finding this program to run the PKCS#11 probe: %w", err)
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("pkcs11 probe request: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(append(os.Environ(), sp.Env...), ChildEnv+"=1")
	cmd.Stdin = bytes.NewReader(body)
	stderr := &tail{max: 4096}
	cmd.Stderr = stderr
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("pkcs11 probe pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the PKCS#11 probe process: %w", err)
	}
	var step, garbage string
	var result, ended bool
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		var m childMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.empty() {
			garbage = string(sc.Bytes())
			break
		}
		if m.Step != "" {
			step = m.Step
		}
		result = result || m.Report != nil || m.Error != nil
		ended = ended || m.End
		if m.Report != nil && m.Report.Library == "" {
			m.Report.Library = req.Library
		}
		on(m)
	}
	if garbage != "" || sc.Err() != nil {
		_ = cmd.Process.Kill()
		_, _ = io.Copy(io.Discard, out)
	}
	werr := cmd.Wait()
	if ctx.Err() != nil {
		if step == "" {
			step = "starting the probe process"
		}
		return &StuckError{Library: req.Library, Call: step, Cause: context.Cause(ctx)}
	}
	ce := &ChildError{Library: req.Library, Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case garbage != "":
		if len(garbage) > 80 {
			garbage = garbage[:80] + "..."
		}
		ce.What = fmt.Sprintf("wrote something other than the probe protocol: %q", garbage)
	case sc.Err() != nil:
		ce.What = fmt.Sprintf("wrote something other than the probe protocol: %v", sc.Err())
	case errors.As(werr, &ee):
		ws, ok := ee.Sys().(syscall.WaitStatus)
		switch {
		case ok && ws.Signaled():
			ce.What = "killed by signal " + signalName(ws.Signal())
		default:
			ce.What = fmt.Sprintf("exited with status %d", ee.ExitCode())
		}
		if step != "" {
			ce.What += " in " + step
		}
	case werr != nil:
		return fmt.Errorf("PKCS#11 library %s: probe process: %w", req.Library, werr)
	case !result:
		ce.What = "exited with status 0 without a result"
		if step != "" {
			ce.What += " in " + step
		}
	case !ended:
		ce.What = "exited with status 0 before unloading the library"
	default:
		return nil
	}
	return ce
}

// signalName is the signal's SIG name, as operators know it.
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGSEGV: "SIGSEGV", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
		syscall.SIGILL: "SIGILL", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
		syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGHUP: "SIGHUP",
		syscall.SIGPIPE: "SIGPIPE", syscall.SIGQUIT: "SIGQUIT", syscall.SIGTRAP: "SIGTRAP",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("%d (%s)", int(s), s)
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
