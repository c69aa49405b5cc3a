// Package pgtest starts a real PostgreSQL server for tests, from the distribution's
// binaries (Debian's postgresql package puts them in /usr/lib/postgresql/VERSION/bin):
// initdb into a temporary folder, pg_ctl start listening only on a Unix socket in that
// folder, and a fresh database per test. Nothing outside the folder is touched, so tests
// run beside a system PostgreSQL and beside each other.
//
// When the binaries are missing, tests skip, or fail when the environment says CI=true
// (a CI run must not pass by skipping what it was meant to test).
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.Start(t) // a server and a database for this test
//		...
//	}
//
// A package whose tests all need PostgreSQL starts one server and asks it for a
// database per test: srv := pgtest.StartServer(t); dsn := srv.NewDatabase(t). For a
// server shared across top-level tests, call Launch in TestMain and Stop after m.Run.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrUnavailable is wrapped by Launch's error when PostgreSQL cannot be run here at all
// (no binaries; running as root without a postgres user to switch to).
var ErrUnavailable = errors.New("pgtest: PostgreSQL is not available")

// superuser is the role initdb creates; trust authentication on the private socket.
const superuser = "postgres"

// Server is a running test server.
type Server struct {
	dir  string // everything: data/, the socket, server.log
	bin  string
	port int
	cred *syscall.Credential // the postgres user's, when the test runs as root
	dbs  atomic.Int64        // databases created, for unique names
	// settings are the caller's server settings ("shared_buffers=128MB"), after the
	// package's own so that they win.
	settings []string
}

// StartServer launches a server for the test (and its subtests) and stops it when the
// test ends. It skips or fails the test when PostgreSQL is not available.
func StartServer(t testing.TB) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := Launch(ctx)
	Check(t, err)
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv
}

// Start launches a server for one test and returns the URL of a fresh database on it.
func Start(t testing.TB) string {
	t.Helper()
	return StartServer(t).NewDatabase(t)
}

// Check applies the policy to Launch's error: nothing when nil; a skip, or a failure when
// CI=true, when PostgreSQL is unavailable; a failure otherwise.
func Check(t testing.TB, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true":
		t.Skipf("%v (install Debian's postgresql package; with CI=true this fails)", err)
	default:
		t.Fatal(err)
	}
}

// Launch starts a server with the package's settings (durability off, 16 MB of shared
// buffers: many servers run side by side in the tests) and the given ones after them
// ("shared_buffers=128MB", PostgreSQL's own default, for a benchmark). The caller stops it
// with Stop.
func Launch(ctx context.Context, settings ...string) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, settings: settings}
	if os.Geteuid() == 0 {
		// The server refuses to run as root: run it (and initdb) as the postgres user
		// the Debian package creates.
		u, err := user.Lookup(superuser)
		if err != nil {
			return nil, fmt.Errorf("%w: running as root and there is no %q user to run the server as: %v", ErrUnavailable, superuser, err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("pgtest: user %s: uid %q gid %q", superuser, u.Uid, u.Gid)
		}
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	// Under the system temp folder, not t.TempDir(): the path must stay short (a Unix
	// socket path has at most 107 bytes) and its parents must be reachable by the
	// postgres user.
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(s.dir, "data")
	if out, err := s.run(ctx, "initdb", "-D", data, "-U", superuser, "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	// Only the Unix socket in our folder (listen_addresses empty): no TCP port to
	// collide with; the port number only names the socket file. Durability is off: the
	// data is thrown away.
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses= -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=60 -c shared_buffers=16MB", s.dir, port)
	for _, set := range s.settings {
		opts += " -c " + set
	}
	if out, err := s.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", data,
		"-l", filepath.Join(s.dir, "server.log"), "-o", opts); err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, s.serverLog())
	}
	return s.waitReady(ctx)
}

// waitReady polls until the server accepts a connection (pg_ctl -w already waits; this
// checks the way the tests will connect), with a deadline.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			return c.Close(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgtest: server not ready: %v\n%s", err, s.serverLog())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DSN is the URL of database db on the server.
func (s *Server) DSN(db string) string {
	q := url.Values{"host": {s.dir}, "port": {strconv.Itoa(s.port)}, "sslmode": {"disable"}}
	return "postgres://" + superuser + "@/" + url.PathEscape(db) + "?" + q.Encode()
}

// NewDatabase creates an empty database for the test and returns its URL. Tests that
// share a server stay apart this way.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return s.DSN(name)
}

// Stop stops the server and removes its folder.
func (s *Server) Stop() error {
	var err error
	data := filepath.Join(s.dir, "data")
	if _, statErr := os.Stat(filepath.Join(data, "postmaster.pid")); statErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, e := s.run(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", data); e != nil {
			err = fmt.Errorf("pg_ctl stop: %v\n%s", e, out)
		}
	}
	if s.dir != "" {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	return err
}

func (s *Server) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(cmd.Env, "HOME="+s.dir, "USER="+superuser)
	}
	return cmd.CombinedOutput()
}

func (s *Server) serverLog() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "server log:\n" + string(b)
}

// findBin finds the server binaries: $PG_BINDIR, Debian's newest
// /usr/lib/postgresql/*/bin, or initdb on the PATH.
func findBin() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("%w: PG_BINDIR=%s: %v", ErrUnavailable, d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	if len(dirs) > 0 {
		return filepath.Dir(dirs[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w: no initdb in /usr/lib/postgresql/*/bin or on the PATH", ErrUnavailable)
}

// version reads the major version out of /usr/lib/postgresql/VERSION/bin/initdb.
func version(p string) float64 {
	parts := strings.Split(filepath.ToSlash(p), "/")
	if len(parts) < 3 {
		return 0
	}
	v, _ := strconv.ParseFloat(parts[len(parts)-3], 64)
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
