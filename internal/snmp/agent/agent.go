package agent

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/peerlog"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

const (
	// maxDatagram is the largest UDP payload over IPv4: the agent's own limit on a
	// response (a v3 request may ask for less with msgMaxSize).
	maxDatagram = 65507
	// minMsgMaxSize is the smallest msgMaxSize RFC 3412 allows; smaller requests are
	// treated as asking for this much.
	minMsgMaxSize = 484
	// recvBufSize holds any UDP datagram, so that no request is silently truncated.
	recvBufSize = 65535
)

// Agent answers SNMP requests from a Tree and sends notifications. One goroutine
// (Serve) answers requests; every method is safe for concurrent use.
type Agent struct {
	conn        net.PacketConn
	tree        Tree
	log         *slog.Logger
	communities [][]byte
	users       map[string]*usm.Key
	engineID    []byte
	engine      atomic.Pointer[engineState]
	salt        usm.Salter // privacy salt counter (RFC 3414 8.1.1.1, RFC 3826 3.1.2.1)
	serving     atomic.Bool
	count       counters
	peers       *peerlog.Limiter
}

// engineState is what a reboot changes: the boot counter and when the engine (and
// the simulated system) started.
type engineState struct {
	boots uint32
	start time.Time
}

// New checks cfg and opens the socket (Addr) or adopts cfg.Conn. Serve answers on it;
// Close releases it when Serve is never called.
func New(cfg Config) (*Agent, error) {
	if cfg.Tree == nil {
		return nil, errors.New("snmpagent: config has no Tree")
	}
	a := &Agent{tree: cfg.Tree, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.peers = peerlog.New(a.log, "snmpagent: ", peerlog.DefaultEvery)
	for _, c := range cfg.Communities {
		if c == "" || len(c) > 255 {
			return nil, fmt.Errorf("snmpagent: community of %d bytes (want 1 to 255)", len(c))
		}
		a.communities = append(a.communities, []byte(c))
	}
	if err := a.listen(cfg); err != nil {
		return nil, err
	}
	if err := a.setEngine(cfg); err != nil {
		a.conn.Close()
		return nil, err
	}
	users, err := usm.LocalizeAll(cfg.Users, a.engineID)
	if err != nil {
		a.conn.Close()
		return nil, fmt.Errorf("snmpagent: %w", err)
	}
	a.users = users
	a.salt.Seed()
	return a, nil
}

func (a *Agent) listen(cfg Config) error {
	if cfg.Conn != nil {
		a.conn = cfg.Conn
		return nil
	}
	if cfg.Addr == "" {
		return errors.New("snmpagent: config has neither Conn nor Addr")
	}
	conn, err := net.ListenPacket("udp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("snmpagent: listen on %s: %w", cfg.Addr, err)
	}
	a.conn = conn
	return nil
}

func (a *Agent) setEngine(cfg Config) error {
	switch {
	case cfg.EngineID == nil:
		a.engineID = engineIDFor(a.conn.LocalAddr())
	case len(cfg.EngineID) < 5 || len(cfg.EngineID) > 32:
		return fmt.Errorf("snmpagent: engine ID of %d bytes (want 5 to 32)", len(cfg.EngineID))
	case allBytes(cfg.EngineID, 0) || allBytes(cfg.EngineID, 0xFF):
		return errors.New("snmpagent: engine ID of all zeros or all ones (RFC 3411 forbids it)")
	default:
		a.engineID = bytes.Clone(cfg.EngineID)
	}
	// net-snmp starts counting boots at 1; 0 would read as "never booted".
	a.engine.Store(&engineState{boots: max(cfg.EngineBoots, 1), start: time.Now()})
	return nil
}

// engineIDFor derives an RFC 3411 engine ID from the listening address, so that each
// simulated HSM in a fleet on one host has its own: the enterprise-format prefix
// with format 5 (administratively assigned octets), "hsmwatch", the IP and the port.
func engineIDFor(addr net.Addr) []byte {
	id := []byte{0x80, 0x00, 0x00, 0x00, 0x05}
	id = append(id, "hsmwatch"...)
	if u, ok := addr.(*net.UDPAddr); ok {
		if ip4 := u.IP.To4(); ip4 != nil {
			id = append(id, ip4...)
		} else {
			id = append(id, u.IP.To16()...)
		}
		id = binary.BigEndian.AppendUint16(id, uint16(u.Port))
	}
	return id
}

func allBytes(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}

// Serve answers requests until ctx ends (then it returns nil) or the socket fails; it
// closes the socket when it returns. An agent serves once.
func (a *Agent) Serve(ctx context.Context) error {
	if !a.serving.CompareAndSwap(false, true) {
		return errors.New("snmpagent: Serve called twice")
	}
	defer a.conn.Close()
	// Closing the socket is the one way to interrupt a blocked read.
	stop := context.AfterFunc(ctx, func() { a.conn.Close() })
	defer stop()
	buf := make([]byte, recvBufSize)
	for {
		n, peer, err := a.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("snmpagent: socket closed: %w", err)
			}
			// Not expected on a UDP socket; a pause keeps a persistent error from
			// spinning a core.
			a.logPeer(peer, "receive failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if out := a.handlePacket(buf[:n], peer); out != nil {
			if _, err := a.conn.WriteTo(out, peer); err != nil {
				a.logPeer(peer, "send failed", "err", err)
				continue
			}
			a.count.responses.Add(1)
		}
	}
}

// Close releases the socket of an agent that is not serving; Serve closes it itself.
func (a *Agent) Close() error { return a.conn.Close() }

// Addr is the address the agent answers on.
func (a *Agent) Addr() net.Addr { return a.conn.LocalAddr() }

// EngineID is the agent's authoritative SNMPv3 engine ID.
func (a *Agent) EngineID() []byte { return bytes.Clone(a.engineID) }

// Reboot simulates a restart: engine boots + 1, engine time from 0. Managers that
// cached the old boots get notInTimeWindow once and resynchronise, as with a real
// restart. Boots latch at 2^31-1 (RFC 3414 2.2.2).
func (a *Agent) Reboot() {
	for {
		old := a.engine.Load()
		next := &engineState{boots: min(old.boots+1, math.MaxInt32), start: time.Now()}
		if a.engine.CompareAndSwap(old, next) {
			return
		}
	}
}

// bootsTime returns snmpEngineBoots and snmpEngineTime (seconds since the last boot).
func (a *Agent) bootsTime() (boots, secs uint32) {
	s := a.engine.Load()
	return s.boots, uint32(min(time.Since(s.start)/time.Second, math.MaxInt32))
}

// uptimeTicks is the agent's sysUpTime in hundredths of a second since the last boot.
func (a *Agent) uptimeTicks() uint32 {
	return uint32(time.Since(a.engine.Load().start) / (10 * time.Millisecond))
}

// communityOK reports whether c is one of the configured communities.
func (a *Agent) communityOK(c []byte) bool {
	ok := 0
	for _, want := range a.communities {
		ok |= subtle.ConstantTimeCompare(c, want)
	}
	return ok == 1
}

// logPeer logs msg about peer unless it was logged about in the last minute.
func (a *Agent) logPeer(peer net.Addr, msg string, args ...any) {
	a.peers.Log(peerlog.Host(peer), msg, args...)
}
