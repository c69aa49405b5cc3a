package agent

import (
	"bytes"
	"errors"
	"math"
	"net"
	"sync/atomic"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// USM report counters (RFC 3414 5).
const (
	oidUnsupportedSecLevels = usm.OIDUnsupportedSecLevels
	oidNotInTimeWindows     = usm.OIDNotInTimeWindows
	oidUnknownUserNames     = usm.OIDUnknownUserNames
	oidUnknownEngineIDs     = usm.OIDUnknownEngineIDs
	oidWrongDigests         = usm.OIDWrongDigests
	oidDecryptionErrors     = usm.OIDDecryptionErrors
	// timeWindow is RFC 3414 3.2.7's 150 seconds.
	timeWindow = usm.TimeWindow
)

// handleV3 runs RFC 3414 3.2's checks in order, answering each failure with the
// Report that tells the manager what to fix, then answers the request at its level.
func (a *Agent) handleV3(msg []byte, peer net.Addr) []byte {
	m, err := usm.ParseMessage(msg)
	if err != nil {
		return a.malformed(peer, err)
	}
	level := m.Level()
	if m.SecModel != int64(gosnmp.UserSecurityModel) || level == usm.FlagPriv {
		return a.malformed(peer, errors.New("not USM, or privacy without authentication"))
	}
	if !bytes.Equal(m.EngineID, a.engineID) {
		return a.report(&m, nil, 0, oidUnknownEngineIDs, &a.count.unknownEngineID)
	}
	u := a.users[string(m.User)]
	if u == nil {
		return a.report(&m, nil, 0, oidUnknownUserNames, &a.count.unknownUser)
	}
	if level&^u.Level() != 0 {
		return a.report(&m, nil, 0, oidUnsupportedSecLevels, &a.count.unsupportedSecLevel)
	}
	if level&usm.FlagAuth != 0 {
		if !u.Authentic(msg, m.AuthParams) {
			return a.report(&m, nil, 0, oidWrongDigests, &a.count.wrongDigest)
		}
		if !a.timely(&m) {
			return a.report(&m, u, usm.FlagAuth, oidNotInTimeWindows, &a.count.notInTimeWindow)
		}
	}
	sc, rep, ok := a.scopedPDU(&m, msg, u, level, peer)
	if !ok {
		return rep
	}
	req, err := decodePDU(usm.WrapPDU(sc.PDU))
	if err != nil {
		return a.malformed(peer, err)
	}
	return a.answerV3(&m, u, level, sc, req, peer)
}

// timely is RFC 3414 3.2.7a for the authoritative engine.
func (a *Agent) timely(m *usm.Message) bool {
	boots, now := a.bootsTime()
	return boots != math.MaxInt32 && m.Boots == int64(boots) &&
		m.Time >= int64(now)-timeWindow && m.Time <= int64(now)+timeWindow
}

// scopedPDU returns the plaintext ScopedPDU, decrypting it at authPriv. When it
// fails, ok is false and report is the decryptionErrors Report (RFC 3414 3.2.8) to
// send, or nil for a malformed plaintext message, which is dropped.
func (a *Agent) scopedPDU(m *usm.Message, msg []byte, u *usm.Key, level byte, peer net.Addr) (sc usm.Scoped, report []byte, ok bool) {
	if level&usm.FlagPriv == 0 {
		if m.Data.Tag != usm.TagSequence {
			return sc, a.malformed(peer, errors.New("plaintext msgData is not a ScopedPDU")), false
		}
		sc, err := usm.ParseScoped(m.Data.Raw(msg))
		if err != nil {
			return sc, a.malformed(peer, err), false
		}
		return sc, nil, true
	}
	err := errors.New("encryptedPDU is not an OCTET STRING")
	if m.Data.Tag == usm.TagOctetString {
		var pt []byte
		pt, err = u.Decrypt(uint32(m.Boots), uint32(m.Time), m.PrivParams, m.Data.Content)
		if err == nil {
			sc, err = usm.ParseScoped(pt)
		}
	}
	if err != nil {
		return sc, a.report(m, nil, 0, oidDecryptionErrors, &a.count.decryptionErrors), false
	}
	return sc, nil, true
}

// answerV3 answers a decoded request at the request's security level.
func (a *Agent) answerV3(m *usm.Message, u *usm.Key, level byte, sc usm.Scoped, req *gosnmp.SnmpPacket, peer net.Addr) []byte {
	maxMsg := int(min(max(m.MaxSize, minMsgMaxSize), maxDatagram))
	var rep reply
	if level < u.Level() {
		// USM would accept it, but a user configured for a level is, like net-snmp's
		// "rouser name priv", not readable below it: VACM's authorizationError.
		if !isConfirmed(req.PDUType) {
			return nil
		}
		a.count.unsupportedSecLevel.Add(1)
		rep = reply{errStatus: gosnmp.AuthorizationError, vars: echo(req.Variables)}
	} else {
		var ok bool
		if rep, ok = a.answer(req, false, maxMsg-overheadV3-len(sc.ContextName)); !ok {
			return nil
		}
		a.logBad(peer, rep)
	}
	encode := func(r reply) ([]byte, error) {
		return a.marshalV3(m, u, level, sc.ContextName, gosnmp.GetResponse, req.RequestID, r)
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
func (a *Agent) report(m *usm.Message, u *usm.Key, level byte, oid string, c *atomic.Uint64) []byte {
	n := c.Add(1)
	if !m.Reportable() {
		return nil
	}
	reqID, contextName := usm.PeekRequest(m)
	r := reply{vars: []Var{{Name: oid, Type: gosnmp.Counter32, Value: uint32(n)}}}
	out, err := a.marshalV3(m, u, level, contextName, gosnmp.Report, reqID, r)
	if err != nil {
		return nil
	}
	return out
}

// marshalV3 encodes a Response or Report with gosnmp's encoder, which authenticates and
// encrypts it with the user's localized keys. Reports for an unknown engine or user
// (u nil) echo the request's user name at noAuthNoPriv.
func (a *Agent) marshalV3(m *usm.Message, u *usm.Key, level byte, contextName string, t gosnmp.PDUType, reqID uint32, r reply) ([]byte, error) {
	boots, now := a.bootsTime()
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(a.engineID),
		AuthoritativeEngineBoots: boots,
		AuthoritativeEngineTime:  now,
		UserName:                 string(m.User),
		AuthenticationProtocol:   gosnmp.NoAuth,
		PrivacyProtocol:          gosnmp.NoPriv,
	}
	if u != nil && level&usm.FlagAuth != 0 {
		sp.AuthenticationProtocol, sp.SecretKey = u.Auth, u.AuthKey
	}
	if u != nil && level&usm.FlagPriv != 0 {
		sp.PrivacyProtocol, sp.PrivacyKey = u.Priv, u.PrivKey
		sp.PrivacyParameters = a.newSalt(u.Priv, boots)
	}
	p := &gosnmp.SnmpPacket{
		Version:            gosnmp.Version3,
		MsgFlags:           gosnmp.SnmpV3MsgFlags(level),
		SecurityModel:      gosnmp.UserSecurityModel,
		MsgID:              uint32(m.MsgID),
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
