package receiver

import "sync/atomic"

// Reason says why a datagram did not become an event.
type Reason uint8

// Reasons a datagram is refused or lost. Each is counted; see Stats.
const (
	ReasonMalformed       Reason = iota // not a decodable SNMP message
	ReasonBadVersion                    // not v1, v2c or v3
	ReasonBadCommunity                  // community not allowed for that source and version
	ReasonUnknownUser                   // v3 user not configured
	ReasonUnknownEngineID               // v3 engine ID not allowed (for that user)
	ReasonSecLevel                      // v3 level below the minimum, or above the user's
	ReasonWrongDigest                   // v3 MAC does not match
	ReasonDecryption                    // v3 encrypted PDU cannot be decrypted
	ReasonNotInTimeWindow               // v3 boots/time outside the window: replay or stale
	ReasonUnexpectedPDU                 // a request, response or inform to the wrong engine
	ReasonQueueFull                     // workers behind: dropped before decoding
	ReasonPanic                         // decoding panicked (a bug): the packet is dropped
	ReasonReplayed                      // v3 trap seen before (engine ID, boots, time, msgID) within the window
	numReasons
)

var reasonNames = [numReasons]string{
	"malformed", "bad_version", "bad_community", "unknown_user", "unknown_engine_id",
	"unsupported_sec_level", "wrong_digest", "decryption_error", "not_in_time_window",
	"unexpected_pdu", "queue_full", "panic", "replayed",
}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Stats counts what a receiver did since it started.
type Stats struct {
	Packets      uint64 // datagrams read from the socket
	Events       uint64 // notifications turned into events
	Acknowledged uint64 // informs answered with a Response
	Discoveries  uint64 // SNMPv3 engine discovery probes answered with a Report
	// Rejected counts the datagrams that did not become events, by reason name.
	Rejected map[string]uint64
}

// RejectedTotal sums Rejected.
func (s Stats) RejectedTotal() uint64 {
	var n uint64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

type counters struct {
	packets, events, acknowledged, discoveries atomic.Uint64
	rejected                                   [numReasons]atomic.Uint64
}

// Stats returns the counters so far. Every datagram read is counted once in Packets and
// then either in Events, in Discoveries or in one Rejected reason, once its worker is
// done with it.
func (r *Receiver) Stats() Stats {
	c := &r.count
	s := Stats{Packets: c.packets.Load(), Events: c.events.Load(), Acknowledged: c.acknowledged.Load(),
		Discoveries: c.discoveries.Load(), Rejected: map[string]uint64{}}
	for i := range c.rejected {
		if n := c.rejected[i].Load(); n > 0 {
			s.Rejected[Reason(i).String()] = n
		}
	}
	return s
}
