package passive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// NagiosConfig is one Nagios (or Icinga 1, Naemon) external command file.
type NagiosConfig struct {
	CommandFile string // the named pipe: /var/lib/nagios4/rw/nagios.cmd
	Service     string // the service on each HSM's host (default hsmwatch)
	Timeout     time.Duration
}

// Nagios writes PROCESS_SERVICE_CHECK_RESULT lines to the command file.
type Nagios struct {
	*tracker
	cfg NagiosConfig
}

// NewNagios checks cfg; the file is opened for each batch, so a restarted Nagios (a new
// pipe) is found again.
func NewNagios(cfg NagiosConfig) (*Nagios, error) {
	if cfg.CommandFile == "" {
		return nil, errors.New("nagios: command_pipe is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	n := &Nagios{cfg: cfg}
	n.tracker = newTracker("nagios "+cfg.CommandFile, cfg.Service, n)
	return n, nil
}

// NagiosLine is one external command: "[TIME] PROCESS_SERVICE_CHECK_RESULT;HOST;SERVICE;
// STATUS;OUTPUT|PERFDATA" and a newline. ';' and newlines in the host or the service
// would shift the fields: they become '_'.
func NagiosLine(r Result) string {
	field := func(s string) string {
		return strings.Map(func(c rune) rune {
			if c == ';' || c == '\n' || c == '\r' {
				return '_'
			}
			return c
		}, s)
	}
	out := strings.ReplaceAll(oneLine(r.Output), "|", "/") // '|' starts the perfdata
	return fmt.Sprintf("[%d] PROCESS_SERVICE_CHECK_RESULT;%s;%s;%d;%s|alarms=%d;;;0\n",
		r.Time.Unix(), field(r.Host), field(r.Service), r.Status, out, r.Alarms)
}

// send writes the lines. Opening without blocking fails at once when Nagios does not read
// the pipe (ENXIO): the queue retries later. Each line is one write below PIPE_BUF, so
// lines of other writers never mix with it.
func (n *Nagios) send(ctx context.Context, rs []Result) error {
	f, err := os.OpenFile(n.cfg.CommandFile, os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return fmt.Errorf("command file %s: nobody reads it (is Nagios running with check_external_commands=1?)", n.cfg.CommandFile)
	}
	if err != nil {
		return fmt.Errorf("command file: %w", err)
	}
	defer f.Close()
	deadline := time.Now().Add(n.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// A pipe is polled: a full pipe waits up to the deadline instead of blocking forever.
	_ = f.SetWriteDeadline(deadline)
	for _, r := range rs {
		if _, err := f.WriteString(NagiosLine(r)); err != nil {
			return fmt.Errorf("command file %s: %w", n.cfg.CommandFile, err)
		}
	}
	return nil
}
