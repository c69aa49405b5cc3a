package snmpagent

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"sync/atomic"

	"github.com/gosnmp/gosnmp"
)

// v3msg is an SNMPv3 message (RFC 3412 6) with the USM security parameters (RFC 3414
// 2.4) read out, and the offsets authentication needs.
type v3msg struct {
	msgID, maxSize int64
	flags          byte
	secModel       int64
	engineID, user []byte
	boots, time    int64
	authParams     []byte // a slice of the message: authentication zeroes it in place
	privParams     []byte
	data           element // plaintext ScopedPDU (SEQUENCE) or encryptedPDU (OCTET STRING)
}

// USM report counters (RFC 3414 5).
const (
	oidUnsupportedSecLevels = ".1.3.6.1.6.3.15.1.1.1.0"
	oidNotInTimeWindows     = ".1.3.6.1.6.3.15.1.1.2.0"
	oidUnknownUserNames     = ".1.3.6.1.6.3.15.1.1.3.0"
	oidUnknownEngineIDs     = ".1.3.6.1.6.3.15.1.1.4.0"
	oidWrongDigests         = ".1.3.6.1.6.3.15.1.1.5.0"
	oidDecryptionErrors     = ".1.3.6.1.6.3.15.1.1.6.0"
	// timeWindow is RFC 3414 3.2.7's 150 seconds.
	timeWindow = 150
)

func parseV3(msg []byte) (v3msg, error) {
	var m v3msg
	r := newBERReader(msg)
	top, err := r.expect(tagSequence, "message")
	if err != nil {
		return m, err
	}
	in := r.enter(top)
	if _, err = in.integer("version"); err != nil {
		return m, err
	}
	if err = m.parseGlobal(in); err != nil {
		return m, err
	}
	sec, err := in.octets("msgSecurityParameters")
	if err != nil {
		return m, err
	}
	if err = m.parseUSM(in.enter(sec)); err != nil {
		return m, err
	}
	if m.data, err = in.next(); err != nil {
		return m, fmt.Errorf("msgData: %w", err)
	}
	if in.more() {
		return m, errors.New("bytes after msgData")
	}
	return m, nil
}

func (m *v3msg) parseGlobal(in *berReader) error {
	global, err := in.expect(tagSequence, "msgGlobalData")
	if err != nil {
		return err
	}
	g := in.enter(global)
	if m.msgID, err = g.integer("msgID"); err != nil {
		return err
	}
	if m.maxSize, err = g.integer("msgMaxSize"); err != nil {
		return err
	}
	flags, err := g.octets("msgFlags")
	if err != nil {
		return err
	}
	if len(flags.content) != 1 {
		return fmt.Errorf("msgFlags of %d bytes", len(flags.content))
	}
	m.flags = flags.content[0]
	if m.secModel, err = g.integer("msgSecurityModel"); err != nil {
		return err
	}
	if m.msgID < 0 || m.maxSize < 0 {
		return errors.New("negative msgID or msgMaxSize")
	}
	return nil
}

func (m *v3msg) parseUSM(s *berReader) error {
	seq, err := s.expect(tagSequence, "UsmSecurityParameters")
	if err != nil {
		return err
	}
	u := s.enter(seq)
	var e element
	if e, err = u.octets("msgAuthoritativeEngineID"); err != nil {
		return err
	}
	m.engineID = e.content
	if m.boots, err = u.integer("msgAuthoritativeEngineBoots"); err != nil {
		return err
	}
	if m.time, err = u.integer("msgAuthoritativeEngineTime"); err != nil {
		return err
	}
	if e, err = u.octets("msgUserName"); err != nil {
		return err
	}
	m.user = e.content
	if e, err = u.octets("msgAuthenticationParameters"); err != nil {
		return err
	}
	m.authParams = e.content
	if e, err = u.octets("msgPrivacyParameters"); err != nil {
		return err
	}
	m.privParams = e.content
	return nil
}

// scoped is a decoded ScopedPDU.
type scoped struct {
	contextName string
	pdu         []byte // the PDU's whole TLV
}

// parseScoped reads a ScopedPDU (RFC 3412 6.8) from its TLV; trailing bytes (DES
// padding) are ignored.
func parseScoped(b []byte) (scoped, error) {
	var s scoped
	r := newBERReader(b)
	seq, err := r.expect(tagSequence, "ScopedPDU")
	if err != nil {
		return s, err
	}
	in := r.enter(seq)
	if _, err = in.octets("contextEngineID"); err != nil {
		return s, err
	}
	name, err := in.octets("contextName")
	if err != nil {
		return s, err
	}
	pdu, err := in.next()
	if err != nil {
		return s, fmt.Errorf("PDU: %w", err)
	}
	if pdu.tag&0xE0 != 0xA0 {
		return s, fmt.Errorf("PDU: tag %#x is not a context-specific constructed type", pdu.tag)
	}
	s.contextName = string(name.content)
	s.pdu = pdu.raw(b)
	return s, nil
}

// wrapPDU builds the v2c-shaped message gosnmp's decoder reads: SEQUENCE { 1, "", PDU }.
func wrapPDU(pdu []byte) []byte {
	body := len(pdu) + 5
	out := make([]byte, 0, body+6)
	out = append(out, tagSequence)
	out = appendLength(out, body)
	out = append(out, tagInteger, 1, 1, tagOctetString, 0)
	return append(out, pdu...)
}

// handleV3 runs RFC 3414 3.2's checks in order, answering each failure with the
// Report that tells the manager what to fix, then answers the request at its level.
func (a *Agent) handleV3(msg []byte, peer net.Addr) []byte {
	m, err := parseV3(msg)
	if err != nil {
		return a.malformed(peer, err)
	}
	level := m.flags & (flagAuth | flagPriv)
	if m.secModel != int64(gosnmp.UserSecurityModel) || level == flagPriv {
		return a.malformed(peer, errors.New("not USM, or privacy without authentication"))
	}
	if !bytes.Equal(m.engineID, a.engineID) {
		return a.report(&m, nil, 0, oidUnknownEngineIDs, &a.count.unknownEngineID)
	}
	u := a.users[string(m.user)]
	if u == nil {
		return a.report(&m, nil, 0, oidUnknownUserNames, &a.count.unknownUser)
	}
	if level&^u.level() != 0 {
		return a.report(&m, nil, 0, oidUnsupportedSecLevels, &a.count.unsupportedSecLevel)
	}
	if level&flagAuth != 0 {
		if !u.authentic(msg, m.authParams) {
			return a.report(&m, nil, 0, oidWrongDigests, &a.count.wrongDigest)
		}
		if !a.timely(&m) {
			return a.report(&m, u, flagAuth, oidNotInTimeWindows, &a.count.notInTimeWindow)
		}
	}
	sc, rep, ok := a.scopedPDU(&m, msg, u, level, peer)
	if !ok {
		return rep
	}
	req, err := decodePDU(wrapPDU(sc.pdu))
	if err != nil {
		return a.malformed(peer, err)
	}
	return a.answerV3(&m, u, level, sc, req, peer)
}

// timely is RFC 3414 3.2.7a for the authoritative engine.
func (a *Agent) timely(m *v3msg) bool {
	boots, now := a.bootsTime()
	return boots != math.MaxInt32 && m.boots == int64(boots) &&
		m.time >= int64(now)-timeWindow && m.time <= int64(now)+timeWindow
}

// scopedPDU returns the plaintext ScopedPDU, decrypting it at authPriv. When it
// fails, ok is false and report is the decryptionErrors Report (RFC 3414 3.2.8) to
// send, or nil for a malformed plaintext message, which is dropped.
func (a *Agent) scopedPDU(m *v3msg, msg []byte, u *usmUser, level byte, peer net.Addr) (sc scoped, report []byte, ok bool) {
	if level&flagPriv == 0 {
		if m.data.tag != tagSequence {
			return sc, a.malformed(peer, errors.New("plaintext msgData is not a ScopedPDU")), false
		}
		sc, err := parseScoped(m.data.raw(msg))
		if err != nil {
			return sc, a.malformed(peer, err), false
		}
		return sc, nil, true
	}
	err := errors.New("encryptedPDU is not an OCTET STRING")
	if m.data.tag == tagOctetString {
		var pt []byte
		pt, err = u.decrypt(uint32(m.boots), uint32(m.time), m.privParams, m.data.content)
		if err == nil {
			sc, err = parseScoped(pt)
		}
	}
	if err != nil {
		return sc, a.report(m, nil, 0, oidDecryptionErrors, &a.count.decryptionErrors), false
	}
	return sc, nil, true
}

// answerV3 answers a decoded request at the request's security level.
func (a *Agent) answerV3(m *v3msg, u *usmUser, level byte, sc scoped, req *gosnmp.SnmpPacket, peer net.Addr) []byte {
	maxMsg := int(min(max(m.maxSize, minMsgMaxSize), maxDatagram))
	var rep reply
	if level < u.level() {
		// USM would accept it, but a user configured for a level is, like net-snmp's
		// "rouser name priv", not readable below it: VACM's authorizationError.
		if !isConfirmed(req.PDUType) {
			return nil
		}
		a.count.unsupportedSecLevel.Add(1)
		rep = reply{errStatus: gosnmp.AuthorizationError, vars: echo(req.Variables)}
	} else {
		var ok bool
		if rep, ok = a.answer(req, false, maxMsg-overheadV3-len(sc.contextName)); !ok {
			return nil
		}
		a.logBad(peer, rep)
	}
	encode := func(r reply) ([]byte, error) {
		return a.marshalV3(m, u, level, sc.contextName, gosnmp.GetResponse, req.RequestID, r)
	}
	return a.fit(peer, rep, tooBig(nil, false), maxMsg, encode)
}

func isConfirmed(t gosnmp.PDUType) bool {
	switch t {
	case gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest, gosnmp.SetRequest:
		return true
	}
	return false
}

// report counts a USM failure and, when the message asked for one, returns the
// Report (RFC 3412 7.1.3c): unauthenticated except for notInTimeWindow, which is
// authenticated with the user's key so that the manager believes the boots and time
// it carries and resynchronises (RFC 3414 3.2.7a, 4).
func (a *Agent) report(m *v3msg, u *usmUser, level byte, oid string, c *atomic.Uint64) []byte {
	n := c.Add(1)
	if m.flags&flagReportable == 0 {
		return nil
	}
	reqID, contextName := peekRequest(m)
	r := reply{vars: []Var{{Name: oid, Type: gosnmp.Counter32, Value: uint32(n)}}}
	out, err := a.marshalV3(m, u, level, contextName, gosnmp.Report, reqID, r)
	if err != nil {
		return nil
	}
	return out
}

// peekRequest reads the request-id and context name of a plaintext ScopedPDU for a
// Report; an encrypted one leaves them zero, as RFC 3412 7.1.3c allows.
func peekRequest(m *v3msg) (uint32, string) {
	if m.data.tag != tagSequence {
		return 0, ""
	}
	r := newBERReader(m.data.content)
	if _, err := r.octets("contextEngineID"); err != nil {
		return 0, ""
	}
	name, err := r.octets("contextName")
	if err != nil {
		return 0, ""
	}
	pdu, err := r.next()
	if err != nil {
		return 0, string(name.content)
	}
	id, err := r.enter(pdu).integer("request-id")
	if err != nil {
		return 0, string(name.content)
	}
	return uint32(id), string(name.content)
}

// marshalV3 encodes a Response or Report with gosnmp's encoder, which authenticates and
// encrypts it with the user's localized keys. Reports for an unknown engine or user
// (u nil) echo the request's user name at noAuthNoPriv.
func (a *Agent) marshalV3(m *v3msg, u *usmUser, level byte, contextName string, t gosnmp.PDUType, reqID uint32, r reply) ([]byte, error) {
	boots, now := a.bootsTime()
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(a.engineID),
		AuthoritativeEngineBoots: boots,
		AuthoritativeEngineTime:  now,
		UserName:                 string(m.user),
		AuthenticationProtocol:   gosnmp.NoAuth,
		PrivacyProtocol:          gosnmp.NoPriv,
	}
	if u != nil && level&flagAuth != 0 {
		sp.AuthenticationProtocol, sp.SecretKey = u.auth, u.authKey
	}
	if u != nil && level&flagPriv != 0 {
		sp.PrivacyProtocol, sp.PrivacyKey = u.priv, u.privKey
		sp.PrivacyParameters = a.newSalt(u.priv, boots)
	}
	p := &gosnmp.SnmpPacket{
		Version:            gosnmp.Version3,
		MsgFlags:           gosnmp.SnmpV3MsgFlags(level),
		SecurityModel:      gosnmp.UserSecurityModel,
		MsgID:              uint32(m.msgID),
		MsgMaxSize:         maxDatagram,
		SecurityParameters: sp,
		ContextEngineID:    string(a.engineID),
		ContextName:        contextName,
		PDUType:            t,
		RequestID:          reqID,
		Error:              r.errStatus,
		ErrorIndex:         r.errIndex,
		Variables:          r.vars,
	}
	return p.MarshalMsg()
}
