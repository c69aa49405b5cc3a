package receiver

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// Level is an SNMPv3 security level.
type Level uint8

// Security levels, lowest first.
const (
	NoAuthNoPriv Level = iota
	AuthNoPriv
	AuthPriv
)

var levelNames = [...]string{"noAuthNoPriv", "authNoPriv", "authPriv"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", l)
}

// ParseLevel reads noAuthNoPriv, authNoPriv or authPriv (any case; net-snmp's
// noauth, auth and priv too).
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "noauthnopriv", "noauth":
		return NoAuthNoPriv, nil
	case "authnopriv", "auth":
		return AuthNoPriv, nil
	case "authpriv", "priv":
		return AuthPriv, nil
	}
	return 0, fmt.Errorf("security level %q: use noAuthNoPriv, authNoPriv or authPriv", s)
}

// levelOf turns msgFlags' auth and priv bits into a Level.
func levelOf(flags byte) Level {
	switch {
	case flags&usm.FlagPriv != 0:
		return AuthPriv
	case flags&usm.FlagAuth != 0:
		return AuthNoPriv
	}
	return NoAuthNoPriv
}

// CommunityRule admits SNMPv1 and SNMPv2c notifications: from a source in Networks (any
// source when empty), carrying one of Communities, in one of Versions (v1 and v2c when
// empty).
type CommunityRule struct {
	Networks    []netip.Prefix
	Communities []string
	Versions    []gosnmp.SnmpVersion
}

// User is an SNMPv3 user notifications are accepted from.
type User struct {
	usm.User
	// EngineIDs are the authoritative engine IDs of the senders whose traps this user may
	// sign: the sender of a trap is its authoritative engine (RFC 3412 6.4), so its keys
	// are localized to the sender's engine ID, as net-snmp's "createUser -e ID" does. A
	// user without engine IDs can only send informs, for which the receiver is
	// authoritative.
	EngineIDs [][]byte
	// MinLevel is the lowest security level accepted from this user when MinLevelSet;
	// the higher of it and Config.MinLevel applies. Without MinLevelSet the user's keys
	// set it, as net-snmp's snmptrapd does: authPriv for a user with a privacy key,
	// authNoPriv for one with an authentication key only, so that an unauthenticated
	// message naming a user that has keys is refused. Set MinLevelSet (min_security) to
	// lower it explicitly.
	MinLevel    Level
	MinLevelSet bool
	// NoTimeliness turns the replay window off for this user's traps. The Luna guide
	// (chapter 2) says Luna Network HSM 7 does not support engineBoots and engineTime;
	// use this only for senders whose clocks cannot be made to work.
	NoTimeliness bool
}

// Config describes a receiver.
type Config struct {
	// Conn is the UDP socket to read; when nil, Addr is listened on.
	Conn net.PacketConn
	Addr string
	// Communities admit v1 and v2c notifications; none admits no v1 or v2c at all.
	Communities []CommunityRule
	// Users admit v3 notifications; none admits no v3 at all.
	Users []User
	// MinLevel is the lowest v3 security level accepted from anyone (default
	// noAuthNoPriv: set authNoPriv or authPriv).
	MinLevel Level
	// EngineID is the receiver's own engine ID, authoritative for informs (5 to 32
	// bytes); when nil one is derived from the host name and the listening port.
	// EngineBoots is its boot counter; when 0, the seconds since 2024 are used, which
	// grow across restarts without a file to keep them in.
	EngineID    []byte
	EngineBoots uint32
	// MIB names traps and varbinds; nil means mib.Builtin().
	MIB *mib.Table
	// Workers decode and emit in parallel (default: 4). Queue bounds the datagrams
	// waiting for a worker (default 65536); beyond it they are dropped and counted.
	Workers int
	Queue   int
	// ReadBuffer is the socket receive buffer asked for (default 8 MiB); the kernel may
	// grant less (net.core.rmem_max), which is logged.
	ReadBuffer int
	// Prepare, when set, is called by the workers, concurrently, on each accepted event
	// before it is emitted: work that needs no order (classification) then runs in
	// parallel instead of under the lock that serialises emit.
	Prepare func(*event.Event)
	// Logger receives at most one line per misbehaving peer per minute.
	Logger *slog.Logger
}

const (
	defaultWorkers    = 4
	defaultQueue      = 65536
	defaultReadBuffer = 8 << 20
)

// checkConfig validates what can be checked before opening the socket. Errors name
// users and rules, never a secret.
func checkConfig(cfg *Config) error {
	if cfg.MinLevel > AuthPriv {
		return fmt.Errorf("minimum level %v", cfg.MinLevel)
	}
	for i, r := range cfg.Communities {
		if len(r.Communities) == 0 {
			return fmt.Errorf("community rule %d has no community", i+1)
		}
		for _, c := range r.Communities {
			if c == "" || len(c) > 255 {
				return fmt.Errorf("community rule %d: a community of %d bytes (want 1 to 255)", i+1, len(c))
			}
		}
		for _, v := range r.Versions {
			if v != gosnmp.Version1 && v != gosnmp.Version2c {
				return fmt.Errorf("community rule %d: version %v is not v1 or v2c", i+1, v)
			}
		}
	}
	seen := map[string]bool{}
	for _, u := range cfg.Users {
		if seen[u.Name] {
			return fmt.Errorf("user %q configured twice", u.Name)
		}
		seen[u.Name] = true
		if u.MinLevel > AuthPriv {
			return fmt.Errorf("user %q: minimum level %v", u.Name, u.MinLevel)
		}
		for _, id := range u.EngineIDs {
			if err := checkEngineID(id); err != nil {
				return fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
	}
	if cfg.EngineID != nil {
		if err := checkEngineID(cfg.EngineID); err != nil {
			return fmt.Errorf("local %w", err)
		}
	}
	return nil
}

func checkEngineID(id []byte) error {
	switch {
	case len(id) < 5 || len(id) > 32:
		return fmt.Errorf("engine ID of %d bytes (want 5 to 32)", len(id))
	case bytes.Count(id, []byte{0}) == len(id) || bytes.Count(id, []byte{0xFF}) == len(id):
		return errors.New("engine ID of all zeros or all ones (RFC 3411 forbids it)")
	}
	return nil
}
