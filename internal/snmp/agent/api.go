// Package snmpagent is a small SNMP responder built on gosnmp's encoder and decoder: the
// agent behind every simulated HSM (internal/sim). It answers Get, GetNext and GetBulk
// for v1/v2c communities and v3 USM users from a Tree whose values may change at any
// time, refuses Set, and sends notifications (v2c and v3 traps and informs).
//
// The project's design notes explain why it is our own: the Go agent libraries answer one request at a
// time and cannot change their OID tables while serving.
package agent

import (
	"log/slog"
	"net"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// Var is one variable binding: Name is a dotted OID with a leading dot
// (".1.3.6.1.2.1.1.1.0"), as gosnmp writes it.
type Var = gosnmp.SnmpPDU

// Tree is what an agent serves. Implementations must be safe for concurrent use.
type Tree interface {
	// Get returns the variable at oid; false means no such object or instance.
	Get(oid string) (Var, bool)
	// Next returns the first variable strictly after oid in OID order (numeric,
	// arc by arc); false means the end of the MIB view.
	Next(oid string) (Var, bool)
}

// User is an SNMPv3 USM user. An empty AuthPass means noAuthNoPriv, an empty PrivPass
// authNoPriv. Passphrases never appear in logs or errors.
type User = usm.User

// Config describes one agent.
type Config struct {
	// Conn is the UDP socket the agent answers on; when nil, Addr is listened on.
	Conn net.PacketConn
	Addr string
	// Communities are the v1/v2c read communities; a request with any other gets no
	// answer, as net-snmp does. Empty disables v1/v2c.
	Communities []string
	// Users are the v3 USM users; empty disables v3.
	Users []User
	// EngineID is the authoritative engine ID (5 to 32 bytes); when nil one is derived
	// from the listening address. EngineBoots counts restarts (a simulated reboot
	// increments it).
	EngineID    []byte
	EngineBoots uint32
	Tree        Tree
	Logger      *slog.Logger
}

// Target is where a notification goes: address, version, community or v3 user (the
// agent is the authoritative engine for traps), inform with timeout and retries.
type Target = notify.Target

// Stats counts what an agent did since it started.
type Stats struct {
	Requests, Responses, BadCommunity, BadVersion, Malformed    uint64
	UnknownUser, WrongDigest, DecryptionErrors, NotInTimeWindow uint64
	UnknownEngineID, UnsupportedSecLevel, SetRefused            uint64
	Notifications, NotificationErrors                           uint64
}
