package receiver

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrNotReconfigurable marks a Reconfigure refused because a setting that cannot change
// on a running receiver changed: the socket (Addr, Conn), the pool (Workers, Queue), the
// socket buffer (ReadBuffer) or the engine (EngineID, EngineBoots). The receiver runs on
// as it was; the setting needs a new Receiver (a restart).
var ErrNotReconfigurable = errors.New("cannot change on a running receiver")

// Reconfigure applies cfg (a configuration reload) to the running receiver without
// closing its socket: closing and binding it again would lose the notifications that
// arrive in between. It is safe to call while Run runs, from any goroutine.
//
// cfg is checked as New checks it, and the v3 keys are derived, before anything changes;
// an error (which names users and rules, never a community or a passphrase) leaves the
// receiver as it was. Refused with an error that wraps ErrNotReconfigurable:
//   - another socket: Addr different from the one New was given (compared as written,
//     so "0.0.0.0:162" stays "0.0.0.0:162"), or a Conn that is not the one New adopted
//     (when cfg.Conn is that one, Addr is not looked at, as in New);
//   - Workers, Queue or ReadBuffer other than the running ones (zero means the default,
//     as in New): the pool and the socket buffer are set up once;
//   - EngineID or EngineBoots other than the running ones: senders of informs know this
//     engine by them. nil and 0 match a receiver started with nil and 0 (derived ones).
//
// Applied to every datagram a worker takes after the call returns (one taken before is
// handled entirely under the old settings): Communities, Users (keys derived as in New),
// MinLevel, MIB and Prepare. What the receiver knows of its peers stays as it was: the
// replay window of each sender engine ID, this engine's boots and time, the counters.
// Logger is ignored: the receiver keeps the one it was made with.
func (r *Receiver) Reconfigure(cfg Config) error {
	if err := checkConfig(&cfg); err != nil {
		return fmt.Errorf("snmptrap: reconfigure: %w", err)
	}
	r.reconfMu.Lock()
	defer r.reconfMu.Unlock()
	if err := r.sameSocketAndEngine(cfg); err != nil {
		return fmt.Errorf("snmptrap: reconfigure: %w: %w (it needs a new receiver)", err, ErrNotReconfigurable)
	}
	st, err := newSettings(cfg, r.engineID)
	if err != nil {
		return fmt.Errorf("snmptrap: reconfigure: %w", err)
	}
	r.set.Store(st)
	r.log.Info("snmptrap: reconfigured", "community_rules", len(st.communities), "users", len(st.users),
		"min_level", st.minLevel.String())
	return nil
}

// sameSocketAndEngine says which setting New fixed cfg changes, if any.
func (r *Receiver) sameSocketAndEngine(cfg Config) error {
	was := &r.started
	switch {
	case cfg.Conn != nil && cfg.Conn != was.conn:
		return errors.New("conn: another socket")
	case cfg.Conn == nil && was.conn != nil:
		return fmt.Errorf("addr %q instead of the socket given as conn", cfg.Addr)
	case cfg.Conn == nil && cfg.Addr != was.addr:
		return fmt.Errorf("addr %q -> %q", was.addr, cfg.Addr)
	}
	if w := orDefault(cfg.Workers, defaultWorkers); w != r.workers {
		return fmt.Errorf("workers %d -> %d", r.workers, w)
	}
	if q := orDefault(cfg.Queue, defaultQueue); q != r.queue {
		return fmt.Errorf("queue %d -> %d", r.queue, q)
	}
	if old, b := orDefault(was.readBuffer, defaultReadBuffer), orDefault(cfg.ReadBuffer, defaultReadBuffer); b != old {
		return fmt.Errorf("read buffer %d -> %d", old, b)
	}
	if (cfg.EngineID == nil && was.engineID != nil) || (cfg.EngineID != nil && !bytes.Equal(cfg.EngineID, r.engineID)) {
		return fmt.Errorf("engine ID %x -> %x", r.engineID, cfg.EngineID)
	}
	if (cfg.EngineBoots == 0 && was.engineBoots != 0) || (cfg.EngineBoots != 0 && cfg.EngineBoots != r.boots) {
		return fmt.Errorf("engine boots %d -> %d", r.boots, cfg.EngineBoots)
	}
	return nil
}

// orDefault is v, or def when v is not positive (how New reads Workers, Queue and
// ReadBuffer).
func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
