package fifo

import (
	"errors"
	"fmt"
)

// ErrNotReconfigurable marks a Reconfigure refused because Path or Name changed: the
// reader runs on as it was; another pipe needs another Reader (a restart).
var ErrNotReconfigurable = errors.New("cannot change on a running reader")

// Reconfigure applies cfg (a configuration reload) to the running reader without closing
// the pipe: closing the read end would give the writers EPIPE and lose what the pipe's
// buffer holds. It is safe to call while Run runs, from any goroutine.
//
// Refused, with an error that wraps ErrNotReconfigurable and leaves everything as it
// was: a change of Path (compared as written) or of Name (it labels the metrics). A cfg
// New would refuse (an unknown Format) is refused too.
//
// Applied when the call returns: Format, Location and Host to every line handled
// afterwards; Poll at once (a wait for a writer under the old Poll ends early); Mode when
// the pipe is made again (the path deleted, or replaced and gone). Logger is ignored:
// the reader keeps the one it was made with.
func (r *Reader) Reconfigure(cfg Config) error {
	if cfg.Path != r.path {
		return fmt.Errorf("%s: reconfigure: path %q -> %q: %w (it needs a new reader)", r.name, r.path, cfg.Path, ErrNotReconfigurable)
	}
	if err := fill(&cfg); err != nil {
		return fmt.Errorf("%s: reconfigure: %w", r.name, err)
	}
	if cfg.Name != r.name {
		return fmt.Errorf("%s: reconfigure: name %q -> %q: %w (it needs a new reader)", r.name, r.name, cfg.Name, ErrNotReconfigurable)
	}
	r.reconfMu.Lock()
	defer r.reconfMu.Unlock()
	cfg.Logger = r.config().Logger
	r.cur.Store(&cfg)
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	r.log.Info("reconfigured", "format", cfg.Format, "host", cfg.Host, "poll", cfg.Poll)
	return nil
}
