package receiver

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// communityRule is a CommunityRule ready for matching.
type communityRule struct {
	nets        []netip.Prefix // empty: any source
	communities [][]byte
	v1, v2c     bool
}

func compileCommunities(rules []CommunityRule) []communityRule {
	out := make([]communityRule, 0, len(rules))
	for _, r := range rules {
		c := communityRule{v1: len(r.Versions) == 0, v2c: len(r.Versions) == 0}
		for _, v := range r.Versions {
			c.v1 = c.v1 || v == gosnmp.Version1
			c.v2c = c.v2c || v == gosnmp.Version2c
		}
		for _, n := range r.Networks {
			c.nets = append(c.nets, n.Masked())
		}
		for _, s := range r.Communities {
			c.communities = append(c.communities, []byte(s))
		}
		out = append(out, c)
	}
	return out
}

// communityAllowed reports whether some rule admits community c from addr in version v.
// Communities are compared in constant time: a timing difference must not reveal how
// much of a guess was right.
func (st *settings) communityAllowed(addr netip.Addr, v gosnmp.SnmpVersion, c []byte) bool {
	addr = addr.Unmap()
	for _, rule := range st.communities {
		if (v == gosnmp.Version1 && !rule.v1) || (v == gosnmp.Version2c && !rule.v2c) {
			continue
		}
		if len(rule.nets) > 0 && !containsAddr(rule.nets, addr) {
			continue
		}
		ok := 0
		for _, want := range rule.communities {
			ok |= subtle.ConstantTimeCompare(c, want)
		}
		if ok == 1 {
			return true
		}
	}
	return false
}

func containsAddr(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// handleCommunity handles SNMPv1 traps and SNMPv2c traps and informs. A refused
// community gets no answer, as with net-snmp, and is never logged.
func (r *Receiver) handleCommunity(st *settings, msg []byte, version gosnmp.SnmpVersion, peer netip.AddrPort, now time.Time) result {
	rd := usm.NewReader(msg)
	top, _ := rd.Next() // checked by handle
	in := rd.Enter(top)
	if _, err := in.Integer("version"); err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	community, err := in.Octets("community")
	if err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	if !st.communityAllowed(peer.Addr(), version, community.Content) {
		return r.reject(ReasonBadCommunity, peer, fmt.Errorf("%s community not allowed from this source", versionName(version)))
	}
	pkt, err := decodePDU(msg)
	if err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	n := notification{version: versionName(version), peer: peer}
	switch {
	case version == gosnmp.Version1 && pkt.PDUType == gosnmp.Trap:
		if err := n.fromV1(pkt); err != nil {
			return r.reject(ReasonMalformed, peer, err)
		}
	case version == gosnmp.Version2c && (pkt.PDUType == gosnmp.SNMPv2Trap || pkt.PDUType == gosnmp.InformRequest):
		n.inform = pkt.PDUType == gosnmp.InformRequest
		if err := n.fromV2(pkt.Variables); err != nil {
			return r.reject(ReasonMalformed, peer, err)
		}
	default:
		return r.reject(ReasonUnexpectedPDU, peer, fmt.Errorf("%s %v is not a notification", versionName(version), pkt.PDUType))
	}
	res := result{ev: st.names.toEvent(&n, now)}
	if n.inform {
		res.reply = r.ackV2c(community.Content, pkt)
	}
	return res
}

// ackV2c is the Response to a v2c inform: the same request-id and variables (RFC 3416
// 4.2.7); when the variables cannot be encoded again, an empty list.
func (r *Receiver) ackV2c(community []byte, req *gosnmp.SnmpPacket) []byte {
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: string(community), PDUType: gosnmp.GetResponse,
		RequestID: req.RequestID, Variables: req.Variables}
	out, err := p.MarshalMsg()
	if err != nil {
		p.Variables = nil
		if out, err = p.MarshalMsg(); err != nil {
			return nil
		}
	}
	r.count.acknowledged.Add(1)
	return out
}

func versionName(v gosnmp.SnmpVersion) string {
	switch v {
	case gosnmp.Version1:
		return "1"
	case gosnmp.Version2c:
		return "2c"
	case gosnmp.Version3:
		return "3"
	}
	return fmt.Sprint(int(v))
}

var errNoTrapOID = errors.New("no snmpTrapOID.0 variable")
