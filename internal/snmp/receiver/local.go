package receiver

import (
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// Sent is an SNMPv2 notification as its sender built it, before it went on the wire: the
// demo's history (internal/daemon/demo.go) replays the past of its simulated HSMs in a few
// seconds, and hands their notifications to Event rather than to a socket, whose events
// would carry the time of their receipt.
type Sent struct {
	Version  string // "2c" or "3"
	Peer     netip.AddrPort
	User     string // v3
	EngineID []byte // v3: the sending engine
	// Vars are the notification's variables: snmpTrapOID.0 (and sysUpTime.0) with the
	// others, in any order.
	Vars []gosnmp.SnmpPDU
}

// Event is the event the receiver makes of n received at the time at, named with table
// (nil: mib.Builtin()): the same decoding as a received datagram's after its
// authentication.
func Event(table *mib.Table, n Sent, at time.Time) (*event.Event, error) {
	if table == nil {
		table = mib.Builtin()
	}
	no := notification{version: n.Version, peer: n.Peer, user: n.User, engineID: n.EngineID}
	if err := no.fromV2(n.Vars); err != nil {
		return nil, err
	}
	return newNamer(table).toEvent(&no, at), nil
}
