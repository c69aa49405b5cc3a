package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sim"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
	trapreceiver "github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
	"github.com/hsmwatch/hsmwatch/internal/source/poll"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// history replays the past of the demo's fleet into its daemon. The simulated HSMs play
// their cycles on a clock set to each step's time (sim.Fleet.Replay) and send nothing;
// what they would have sent is read here as the daemon's sources read it: a Luna line is
// formatted as its syslog datagram and parsed by the same parser, a Dinamo record as its
// event log line, a trap is decoded by the trap receiver's code (receiver.Event) with its
// own time; the agents are polled by the real poller, whose clock is the replay's. The
// events go through the daemon's pipeline (classify, state, store), the figures to the
// store. Every event is marked as the demo's history in its input.
type history struct {
	d         *Daemon
	fleet     *sim.Fleet
	secrets   map[string]string
	agents    []string // Dinamo, then the two Luna HSMs, as in the fleet
	lunaNames []string
	engines   []string
	table     *mib.Table
	log       *slog.Logger
	op        *demoOperator
	// live hands the fleet over to the wall clock; the prelude calls it once, whatever
	// the replay's outcome.
	live func()

	luna, dinamo *liveparse.Parser
	peers        map[string]netip.AddrPort // device name -> its agent's address
	devices      map[string]sim.Device
	emitErr      error
	events       int
	opPending    bool // a line whose alarm the operator handles was replayed
}

// demoMaxRepetitions makes each history poll fewer round trips than a live one (the
// simulated agents answer large GetBulk requests): the replay is bound by them.
const demoMaxRepetitions = 100

// historyInput marks the replayed events (event.Input).
const historyInput = "demo history"

func (h *history) replay(ctx context.Context, clock *sim.Handover, end time.Time, step time.Duration) error {
	started, from := time.Now(), clock.Now()
	var err error
	if h.luna, err = liveparse.New("", nil); err != nil {
		return err
	}
	if h.dinamo, err = liveparse.New(event.SourceDinamoLog, nil); err != nil {
		return err
	}
	h.peers, h.devices = map[string]netip.AddrPort{}, map[string]sim.Device{}
	var targets []poller.Target
	for i, m := range h.fleet.Members() {
		name := m.Device.Info().Name
		h.devices[name] = m.Device
		if ap, err := netip.ParseAddrPort(m.Addr()); err == nil {
			h.peers[name] = ap
		}
		if i == 0 {
			targets = append(targets, poller.Target{Addr: h.agents[0], Version: "2c", Community: h.secrets[demoCommEnv], MaxRepetitions: demoMaxRepetitions})
			continue
		}
		targets = append(targets, poller.Target{Addr: h.agents[i], Name: h.lunaNames[i-1], Version: "3", User: demoUser,
			AuthProto: "SHA", AuthPass: h.secrets[demoAuthEnv], PrivProto: "AES", PrivPass: h.secrets[demoPrivEnv],
			MaxRepetitions: demoMaxRepetitions})
	}
	pollers := make([]*poller.Poller, len(targets))
	for i, tg := range targets {
		if pollers[i], err = poller.New(poller.Options{Target: tg, Profile: "auto", MIB: h.table, Now: clock.Now, Logger: h.log}); err != nil {
			return fmt.Errorf("demo history: %w", err)
		}
		defer pollers[i].Close()
	}
	var samples []store.Sample
	polls, sampled, requests := 0, 0, 0
	flush := func() error {
		if len(samples) == 0 {
			return nil
		}
		err := h.d.store.PutSamples(ctx, samples)
		sampled += len(samples)
		samples = samples[:0]
		return err
	}
	lastOp, opOpen := time.Time{}, 0
	var inPolls, inOperator time.Duration
	at := func(ctx context.Context, t time.Time) error {
		t0 := time.Now()
		results := make([]*poller.Result, len(pollers))
		var wg sync.WaitGroup
		for i, p := range pollers {
			wg.Go(func() {
				r, err := p.Poll(ctx)
				if err != nil && ctx.Err() == nil {
					h.log.Debug("demo history: poll failed", "target", targets[i].String(), "err", err)
				}
				results[i] = r
			})
		}
		wg.Wait()
		inPolls += time.Since(t0)
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, r := range results {
			if r == nil {
				continue
			}
			polls++
			requests += r.Requests
			for j := range r.Events {
				r.Events[j].Input = historyInput + " " + r.Events[j].Input
				h.emit(ctx, &r.Events[j])
			}
			if r.Host == "" {
				continue
			}
			h.d.names.Learn(targets[i].Addr, r.Profile, r.Host)
			for _, s := range poll.Samples(r) {
				samples = append(samples, store.Sample{Host: r.Host, Metric: s.Name, Labels: s.Labels, Value: s.Value, Time: r.Time})
			}
		}
		if len(samples) >= 20000 {
			if err := flush(); err != nil {
				return fmt.Errorf("demo history: samples: %w", err)
			}
		}
		// The operator looks only while it may have something to do: since a line it
		// handles was replayed, until none of its alarms is open.
		if (h.opPending || opOpen > 0) && t.Sub(lastOp) >= demoOperatorEvery {
			lastOp, h.opPending = t, false
			t1 := time.Now()
			// Older than the last hours, the operator only closes (half the writes: the
			// replay stays short); the recent past shows the whole trail.
			if opOpen, err = h.op.tick(ctx, t, end.Sub(t) <= demoAckedHistory); err != nil {
				return err
			}
			inOperator += time.Since(t1)
		}
		return h.emitErr
	}
	if err := h.fleet.Replay(ctx, clock, end, step, func(e sim.Emitted) { h.observe(ctx, e) }, at); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("demo history: samples: %w", err)
	}
	if _, err := h.op.tick(ctx, end, true); err != nil {
		return err
	}
	// Everything replayed is stored before a source or the HTTP server starts.
	if err := h.d.pipe.Do(ctx, func() {}); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	h.log.Info("demo: the past replayed", "from", from.Format(time.RFC3339),
		"events", h.events, "polls", polls, "snmp_requests", requests, "samples", sampled, "took", time.Since(started).Round(time.Millisecond),
		"polling", inPolls.Round(time.Millisecond), "operator", inOperator.Round(time.Millisecond))
	return h.emitErr
}

// observe reads one thing a simulated HSM said as the daemon's sources would.
func (h *history) observe(ctx context.Context, e sim.Emitted) {
	var ev *event.Event
	switch {
	case e.Log != nil && e.Log.Vendor == sim.VendorDinamo:
		ev = &event.Event{}
		h.dinamo.Into(sim.FormatLine(e.Log, sim.FormatDinamo), ev)
		ev.Input = historyInput + " (event log)"
		if ev.Host == "" {
			ev.Host = demoDinamoSerial // the followed file's host
		}
		h.d.names.Name(ev)
	case e.Log != nil:
		ev = &event.Event{}
		h.luna.Into(sim.FormatLine(e.Log, sim.FormatLuna), ev)
		h.opPending = h.opPending || demoOperated(e.Log.Message)
		ev.Input = historyInput + " (syslog)"
	case e.Trap != nil:
		sent := trapreceiver.Sent{Version: "2c", Peer: h.peers[e.Device]}
		dev := h.devices[e.Device]
		if dev != nil && dev.Info().Vendor == sim.VendorLuna {
			sent.Version, sent.User = "3", demoUser
			for i, n := range h.lunaNames {
				if n == e.Device {
					sent.EngineID = engineBytes(h.engines[i])
				}
			}
		}
		if dev != nil {
			if up, ok := dev.Tree().Get(".1.3.6.1.2.1.1.3.0"); ok {
				sent.Vars = append(sent.Vars, up)
			}
		}
		sent.Vars = append(sent.Vars, gosnmp.SnmpPDU{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: e.Trap.OID})
		for _, v := range e.Trap.Vars {
			if s, ok := v.Value.(string); ok && v.Type == gosnmp.OctetString {
				v.Value = []byte(s) // as decoded from the wire
			}
			sent.Vars = append(sent.Vars, v)
		}
		var err error
		if ev, err = trapreceiver.Event(h.table, sent, e.Trap.Time); err != nil {
			h.log.Warn("demo history: trap", "device", e.Device, "trap", e.Trap.Name, "err", err)
			return
		}
		h.d.names.Name(ev) // by the sender's address, in Input
		ev.Input = historyInput + " (trap from " + ev.Input + ")"
	default:
		return
	}
	h.emit(ctx, ev)
}

func (h *history) emit(ctx context.Context, ev *event.Event) {
	if h.emitErr != nil {
		return
	}
	if err := h.d.pipe.Emit(ctx, component.Record{Event: ev}); err != nil {
		h.emitErr = fmt.Errorf("demo history: %w", err)
		return
	}
	h.events++
}

func engineBytes(s string) []byte {
	b, _ := hex.DecodeString(s) // the demo's own constants
	return b
}

// demoOperator stands in for the person who handles the alarms only a person can end:
// the Luna PCIe HSM's one-shot ALM alarms (a tamper, a zeroization) stay open until
// someone acknowledges and closes them (internal/classify/catalog/luna-pcie-alarms.yaml),
// and so does an NTLS crash (its restart clears nothing: the stack dump is to be read).
// It acknowledges such an alarm two minutes after it opened and closes it after ten,
// once the HSM is back in service, through the daemon's operator actions (stored with
// who, when and why, shown in the timeline).
type demoOperator struct {
	d   *Daemon
	log *slog.Logger
}

const (
	demoOperatorName  = "demo-operator"
	demoOperatorEvery = 5 * time.Minute // how often the history's operator looks, while it has work
	demoAckAfter      = 2 * time.Minute
	demoCloseAfter    = 10 * time.Minute
	demoAckedHistory  = 3 * time.Hour // the replayed past in which the operator also acknowledges
)

// demoOperated tells the Luna lines whose alarms the demo operator handles (the rules'
// texts: an ALM code, an NTLS crash), so that the replay calls it only when needed.
func demoOperated(msg string) bool {
	return strings.Contains(msg, "ALM") || strings.Contains(msg, "CRASH AND BURN")
}

// tick acknowledges and closes what is due at now and returns how many of the alarms it
// handles are still open.
func (o *demoOperator) tick(ctx context.Context, now time.Time, acknowledge bool) (int, error) {
	// Every alarm opened so far is in the store first.
	if err := o.d.pipe.Do(ctx, func() {}); err != nil {
		return 0, fmt.Errorf("demo operator: %w", err)
	}
	open, err := o.d.store.Alarms(ctx, store.AlarmFilter{Site: o.d.store.Site(), Open: true, Limit: store.MaxLimit})
	if err != nil {
		return 0, fmt.Errorf("demo operator: %w", err)
	}
	var acts []alarmAction
	still := 0
	for _, a := range open {
		var ack, done string
		switch {
		case strings.HasPrefix(a.Rule, "luna.pcie."):
			ack = "investigating the tamper: reading the FRAM log (hsm supportinfo)"
			done = "tamper investigated (FRAM log read with hsm supportinfo); the HSM was restarted, initialised again and its partitions re-created"
		case strings.HasPrefix(a.Rule, "luna.ntls.ntls-crash"):
			ack = "NTLS restarted by itself; reading the stack dump"
			done = "stack dump sent to Thales support; NTLS has run since without a crash"
		default:
			continue
		}
		age := now.Sub(a.Opened)
		switch {
		case age >= demoCloseAfter:
			acts = append(acts, alarmAction{id: a.ID, close: true, act: store.Action{By: demoOperatorName, At: now, Comment: done}})
			continue
		case acknowledge && age >= demoAckAfter && a.Acknowledged == nil:
			acts = append(acts, alarmAction{id: a.ID, act: store.Action{By: demoOperatorName, At: now, Comment: ack}})
		}
		still++
	}
	if len(acts) == 0 {
		return still, nil
	}
	out, err := o.d.ops.apply(ctx, acts)
	if err != nil {
		return 0, fmt.Errorf("demo operator: %w", err)
	}
	for _, a := range out {
		if a.err != nil {
			return 0, fmt.Errorf("demo operator: alarm %d: %w", a.id, a.err)
		}
	}
	return still, nil
}

// run looks every 30 s while the demo is live.
func (o *demoOperator) run(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := o.tick(ctx, time.Now(), true); err != nil && ctx.Err() == nil {
				o.log.Warn("demo operator", "err", err)
			}
		}
	}
}

// softHSMLibs are where Debian and others install SoftHSM2's library.
func softHSMLibs() []string {
	return []string{
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
		"/usr/lib64/pkcs11/libsofthsm2.so",
	}
}

// demoTokenLabel is the SoftHSM2 token's label: its name in the fleet.
const demoTokenLabel = "softhsm-demo"

// demoToken initialises a SoftHSM2 token in a configuration of its own under dir (the
// user's own tokens are left alone) and returns the library, that configuration and the
// token's label; an error says why there is none. Its PINs are random and forgotten: the
// probe reads what a token shows without logging in.
func demoToken(ctx context.Context, lib, dir string) (string, string, string, error) {
	switch lib {
	case "none":
		return "", "", "", errors.New("left out on request")
	case "":
		for _, p := range softHSMLibs() {
			if _, err := os.Stat(p); err == nil {
				lib = p
				break
			}
		}
		if lib == "" {
			return "", "", "", fmt.Errorf("SoftHSM2 is not installed (no libsofthsm2.so in %s; Debian: apt-get install softhsm2)", strings.Join(softHSMLibs(), ", "))
		}
	default:
		if _, err := os.Stat(lib); err != nil {
			return "", "", "", fmt.Errorf("SoftHSM2 library: %w", err)
		}
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return "", "", "", fmt.Errorf("SoftHSM2's softhsm2-util is not installed: %w", err)
	}
	home := filepath.Join(dir, "softhsm2")
	tokens := filepath.Join(home, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return "", "", "", fmt.Errorf("SoftHSM2 token folder: %w", err)
	}
	conf := filepath.Join(home, "softhsm2.conf")
	text := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return "", "", "", fmt.Errorf("SoftHSM2 configuration: %w", err)
	}
	pin := func() string { return rand.Text()[:12] }
	cmd := exec.CommandContext(ctx, util, "--init-token", "--free", "--label", demoTokenLabel, "--so-pin", pin(), "--pin", pin())
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", "", fmt.Errorf("softhsm2-util --init-token: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return lib, conf, demoTokenLabel, nil
}
