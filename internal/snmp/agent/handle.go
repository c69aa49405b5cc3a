package agent

import (
	"fmt"
	"net"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// handlePacket answers one datagram; nil means no answer. A panic anywhere in decoding
// or answering costs that packet only.
func (a *Agent) handlePacket(pkt []byte, peer net.Addr) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			a.count.malformed.Add(1)
			a.logPeer(peer, "packet made the agent panic; dropped", "panic", fmt.Sprint(p), "bytes", len(pkt))
			out = nil
		}
	}()
	a.count.requests.Add(1)
	return a.handle(pkt, peer)
}

// handle is handlePacket without the recover, so that the fuzz target sees panics.
func (a *Agent) handle(pkt []byte, peer net.Addr) []byte {
	r := usm.NewReader(pkt)
	top, err := r.Expect(usm.TagSequence, "message")
	if err != nil {
		return a.malformed(peer, err)
	}
	// Bytes after the message are not part of it; gosnmp and the MAC both need the
	// message alone.
	msg := pkt[:top.Offset+len(top.Content)]
	version, err := r.Enter(top).Integer("version")
	if err != nil {
		return a.malformed(peer, err)
	}
	switch version {
	case int64(gosnmp.Version1), int64(gosnmp.Version2c):
		return a.handleCommunity(msg, gosnmp.SnmpVersion(version), peer)
	case int64(gosnmp.Version3):
		return a.handleV3(msg, peer)
	}
	a.count.badVersion.Add(1)
	return nil
}

func (a *Agent) malformed(peer net.Addr, err error) []byte {
	a.count.malformed.Add(1)
	a.logPeer(peer, "malformed SNMP message dropped", "err", err)
	return nil
}

// handleCommunity answers SNMPv1 and SNMPv2c. A community that is not configured gets
// no answer, as with net-snmp, so that scanning for communities learns nothing.
func (a *Agent) handleCommunity(msg []byte, version gosnmp.SnmpVersion, peer net.Addr) []byte {
	r := usm.NewReader(msg)
	top, _ := r.Next() // checked by handle
	in := r.Enter(top)
	if _, err := in.Integer("version"); err != nil {
		return a.malformed(peer, err)
	}
	community, err := in.Octets("community")
	if err != nil {
		return a.malformed(peer, err)
	}
	if !a.communityOK(community.Content) {
		a.count.badCommunity.Add(1)
		return nil
	}
	req, err := decodePDU(msg)
	if err != nil {
		return a.malformed(peer, err)
	}
	rep, ok := a.answer(req, version == gosnmp.Version1, maxDatagram-overheadCommunity-len(community.Content))
	if !ok {
		return nil
	}
	a.logBad(peer, rep)
	encode := func(r reply) ([]byte, error) {
		p := &gosnmp.SnmpPacket{
			Version:    version,
			Community:  string(community.Content),
			PDUType:    gosnmp.GetResponse,
			RequestID:  req.RequestID,
			Error:      r.errStatus,
			ErrorIndex: r.errIndex,
			Variables:  r.vars,
		}
		return p.MarshalMsg()
	}
	return a.fit(peer, rep, tooBig(req.Variables, version == gosnmp.Version1), maxDatagram, encode)
}

// Bytes of a message that are not variable bindings, at most: the headers of the
// message, the PDU and the binding list. SNMPv3's also covers the longest engine ID,
// user name and MAC, the privacy parameters, the encryptedPDU header and DES padding.
const (
	overheadCommunity = 40
	overheadV3        = 320
)

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

// logBad logs a Tree value that could not be encoded: a bug in what fills the tree.
func (a *Agent) logBad(peer net.Addr, r reply) {
	if r.bad != "" {
		a.logPeer(peer, "tree value cannot be encoded as its type; answered genErr", "oid", r.bad)
	}
}

// tooBig is the answer when even the shortest answer does not fit: RFC 3416 sends an
// empty variable list, RFC 1157 (v1) the request's list.
func tooBig(reqVars []Var, v1 bool) reply {
	r := reply{errStatus: gosnmp.TooBig}
	if v1 {
		r.vars = echo(reqVars)
	}
	return r
}

// fit encodes r, cutting a GetBulk answer's trailing variables until the message fits
// maxMsg, and answering tooBig when nothing shorter is allowed or fits.
func (a *Agent) fit(peer net.Addr, r reply, big reply, maxMsg int, encode func(reply) ([]byte, error)) []byte {
	out, err := encode(r)
	if err != nil {
		a.logPeer(peer, "cannot encode answer", "err", err)
		return nil
	}
	if len(out) <= maxMsg {
		return out
	}
	if r.bulk {
		if best := a.cut(r, maxMsg, encode); best != nil {
			return best
		}
	}
	out, err = encode(big)
	if err != nil || len(out) > maxMsg {
		a.logPeer(peer, "cannot encode tooBig answer", "err", err)
		return nil
	}
	return out
}

// cut finds, by bisection, the most variables (at least one beyond the non-repeaters)
// that fit; nil when none does.
func (a *Agent) cut(r reply, maxMsg int, encode func(reply) ([]byte, error)) []byte {
	var best []byte
	lo, hi := max(r.keep, 1), len(r.vars)-1
	all := r.vars
	for lo <= hi {
		mid := (lo + hi) / 2
		r.vars = all[:mid]
		out, err := encode(r)
		if err == nil && len(out) <= maxMsg {
			best, lo = out, mid+1
		} else {
			hi = mid - 1
		}
	}
	return best
}
