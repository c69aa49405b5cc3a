package receiver

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// result is what one datagram yields: an event, an answer for the peer, both or neither
// (a refusal, already counted).
type result struct {
	ev    *event.Event
	reply []byte
}

// handle decodes one datagram received at now, under the settings st. It is the whole
// decoding path, without the recover of handleSafely, so that the fuzz target sees panics.
func (r *Receiver) handle(st *settings, pkt []byte, peer netip.AddrPort, now time.Time) result {
	rd := usm.NewReader(pkt)
	top, err := rd.Expect(usm.TagSequence, "message")
	if err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	// Bytes after the message are not part of it; gosnmp and the MAC both need the
	// message alone.
	msg := pkt[:top.Offset+len(top.Content)]
	version, err := rd.Enter(top).Integer("version")
	if err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	switch version {
	case int64(gosnmp.Version1), int64(gosnmp.Version2c):
		return r.handleCommunity(st, msg, gosnmp.SnmpVersion(version), peer, now)
	case int64(gosnmp.Version3):
		return r.handleV3(st, msg, peer, now)
	}
	return r.reject(ReasonBadVersion, peer, fmt.Errorf("SNMP version field %d", version))
}

// decodePDU decodes a v1/v2c-shaped message (SNMPv3 scoped PDUs are wrapped into one)
// with gosnmp's decoder.
func decodePDU(msg []byte) (*gosnmp.SnmpPacket, error) {
	dec := gosnmp.GoSNMP{Version: gosnmp.Version2c}
	p, err := dec.SnmpDecodePacket(msg)
	if err != nil {
		return nil, fmt.Errorf("decode PDU: %w", err)
	}
	return p, nil
}
