package receiver

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// userKeys is a configured user with its keys: localized to the receiver's engine ID
// for informs, and to each allowed sender engine ID for traps. Passphrases are not kept.
type userKeys struct {
	name         string
	minLevel     Level
	noTimeliness bool
	own          *usm.Key
	remote       map[string]*usm.Key // sender engine ID -> key
}

func localizeUsers(users []User, ownEngine []byte) (map[string]*userKeys, map[string]bool, error) {
	out := make(map[string]*userKeys, len(users))
	engines := map[string]bool{}
	for _, u := range users {
		own, err := usm.Localize(u.User, ownEngine)
		if err != nil {
			return nil, nil, fmt.Errorf("user %q: %w", u.Name, err)
		}
		minLevel := u.MinLevel
		if !u.MinLevelSet {
			minLevel = levelOf(own.Level())
		}
		uk := &userKeys{name: u.Name, minLevel: minLevel, noTimeliness: u.NoTimeliness, own: own,
			remote: make(map[string]*usm.Key, len(u.EngineIDs))}
		for _, id := range u.EngineIDs {
			k, err := usm.Localize(u.User, id)
			if err != nil {
				return nil, nil, fmt.Errorf("user %q: %w", u.Name, err)
			}
			uk.remote[string(id)] = k
			engines[string(id)] = true
		}
		out[u.Name] = uk
	}
	return out, engines, nil
}

// handleV3 runs RFC 3414 3.2's checks in order. Traps are authoritative at the sender:
// its engine ID must be allowed for the user, and its boots and time must pass the
// replay window. Informs are authoritative here: discovery gets a Report with this
// engine's ID, boots and time, and an accepted inform a Response at its own level.
// Refusals of messages that asked for one (the reportable flag: informs and probes,
// never traps) are answered with the Report that says why.
func (r *Receiver) handleV3(st *settings, msg []byte, peer netip.AddrPort, now time.Time) result {
	m, err := usm.ParseMessage(msg)
	if err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	if m.SecModel != int64(gosnmp.UserSecurityModel) || m.Level() == usm.FlagPriv {
		return r.reject(ReasonMalformed, peer, fmt.Errorf("security model %d, flags %#x: not USM, or privacy without authentication", m.SecModel, m.Flags))
	}
	ours := bytes.Equal(m.EngineID, r.engineID)
	if !ours && !st.engines[string(m.EngineID)] {
		if len(m.EngineID) == 0 && m.Reportable() {
			// Engine discovery (RFC 3414 4): not a refusal.
			n := r.count.discoveries.Add(1)
			return result{reply: r.report(&m, nil, 0, usm.OIDUnknownEngineIDs, n)}
		}
		return r.refuse(&m, nil, 0, ReasonUnknownEngineID, peer, fmt.Errorf("engine ID %x is not allowed", clip32(m.EngineID)))
	}
	u := st.users[string(m.User)]
	if u == nil {
		return r.refuse(&m, nil, 0, ReasonUnknownUser, peer, fmt.Errorf("user %q is not configured", clip32(m.User)))
	}
	k := u.own
	if !ours {
		k = u.remote[string(m.EngineID)]
	}
	if k == nil {
		return r.refuse(&m, nil, 0, ReasonUnknownEngineID, peer, fmt.Errorf("user %q may not send from engine ID %x", m.User, clip32(m.EngineID)))
	}
	level := levelOf(m.Flags)
	if want := max(st.minLevel, u.minLevel); level < want || m.Level()&^k.Level() != 0 {
		return r.refuse(&m, nil, 0, ReasonSecLevel, peer,
			fmt.Errorf("user %q sent at %v; accepted: %v up to %v", m.User, level, want, levelOf(k.Level())))
	}
	if level >= AuthNoPriv {
		if !k.Authentic(msg, m.AuthParams) {
			return r.refuse(&m, nil, 0, ReasonWrongDigest, peer, fmt.Errorf("user %q: wrong digest", m.User))
		}
		if ours && !r.timely(&m) {
			// Authenticated, so that the sender believes the boots and time it carries.
			return r.refuse(&m, k, usm.FlagAuth, ReasonNotInTimeWindow, peer,
				fmt.Errorf("user %q: boots %d time %d outside this engine's window", m.User, m.Boots, m.Time))
		}
		if !ours && !u.noTimeliness {
			switch r.replay.admit(string(m.EngineID), m.Boots, m.Time, m.MsgID, now) {
			case replayStale:
				return r.refuse(&m, nil, 0, ReasonNotInTimeWindow, peer,
					fmt.Errorf("engine ID %x: boots %d time %d behind what it sent before (replay?)", clip32(m.EngineID), m.Boots, m.Time))
			case replaySeen:
				return r.reject(ReasonReplayed, peer,
					fmt.Errorf("engine ID %x: boots %d time %d msgID %d received before: a replay, dropped", clip32(m.EngineID), m.Boots, m.Time, m.MsgID))
			}
		}
	}
	sc, res, ok := r.scopedPDU(&m, msg, k, peer)
	if !ok {
		return res
	}
	pkt, err := decodePDU(usm.WrapPDU(sc.PDU))
	if err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	n := notification{version: "3", peer: peer, user: u.name}
	switch {
	case !ours && pkt.PDUType == gosnmp.SNMPv2Trap:
		n.engineID = append([]byte(nil), m.EngineID...)
	case ours && pkt.PDUType == gosnmp.InformRequest:
		n.inform = true
		n.engineID = append([]byte(nil), sc.ContextEngineID...)
	default:
		return r.reject(ReasonUnexpectedPDU, peer, fmt.Errorf("v3 %v to engine ID %x is not a notification this receiver takes", pkt.PDUType, clip32(m.EngineID)))
	}
	if err := n.fromV2(pkt.Variables); err != nil {
		return r.reject(ReasonMalformed, peer, err)
	}
	out := result{ev: st.names.toEvent(&n, now)}
	if n.inform {
		out.reply = r.respondV3(&m, k, sc, pkt)
	}
	return out
}

// refuse counts and logs a refusal and, when the message asked for it, answers with the
// Report for reason.
func (r *Receiver) refuse(m *usm.Message, k *usm.Key, level byte, reason Reason, peer netip.AddrPort, err error) result {
	res := r.reject(reason, peer, err)
	oid := ""
	switch reason {
	case ReasonUnknownEngineID:
		oid = usm.OIDUnknownEngineIDs
	case ReasonUnknownUser:
		oid = usm.OIDUnknownUserNames
	case ReasonSecLevel:
		oid = usm.OIDUnsupportedSecLevels
	case ReasonWrongDigest:
		oid = usm.OIDWrongDigests
	case ReasonNotInTimeWindow:
		oid = usm.OIDNotInTimeWindows
	case ReasonDecryption:
		oid = usm.OIDDecryptionErrors
	}
	if oid != "" {
		res.reply = r.report(m, k, level, oid, r.count.rejected[reason].Load())
	}
	return res
}

// timely is RFC 3414 3.2.7a for this (authoritative) engine.
func (r *Receiver) timely(m *usm.Message) bool {
	boots, now := r.bootsTime()
	return m.Boots == int64(boots) && m.Time >= int64(now)-usm.TimeWindow && m.Time <= int64(now)+usm.TimeWindow
}

// scopedPDU returns the plaintext ScopedPDU, decrypting it at authPriv.
func (r *Receiver) scopedPDU(m *usm.Message, msg []byte, k *usm.Key, peer netip.AddrPort) (usm.Scoped, result, bool) {
	if m.Flags&usm.FlagPriv == 0 {
		if m.Data.Tag != usm.TagSequence {
			return usm.Scoped{}, r.reject(ReasonMalformed, peer, fmt.Errorf("plaintext msgData is not a ScopedPDU")), false
		}
		sc, err := usm.ParseScoped(m.Data.Raw(msg))
		if err != nil {
			return sc, r.reject(ReasonMalformed, peer, err), false
		}
		return sc, result{}, true
	}
	var sc usm.Scoped
	err := fmt.Errorf("encryptedPDU is not an OCTET STRING")
	if m.Data.Tag == usm.TagOctetString {
		var pt []byte
		pt, err = k.Decrypt(uint32(m.Boots), uint32(m.Time), m.PrivParams, m.Data.Content)
		if err == nil {
			sc, err = usm.ParseScoped(pt)
		}
	}
	if err != nil {
		return sc, r.refuse(m, nil, 0, ReasonDecryption, peer, fmt.Errorf("user %q: %w", m.User, err)), false
	}
	return sc, result{}, true
}

// respondV3 acknowledges an inform: a Response with the same request-id and variables,
// at the inform's security level (RFC 3416 4.2.7, RFC 3412 7.1).
func (r *Receiver) respondV3(m *usm.Message, k *usm.Key, sc usm.Scoped, req *gosnmp.SnmpPacket) []byte {
	out, err := r.marshalV3(m, k, m.Level(), sc.ContextEngineID, sc.ContextName, gosnmp.GetResponse, req.RequestID, req.Variables)
	if err != nil {
		out, err = r.marshalV3(m, k, m.Level(), sc.ContextEngineID, sc.ContextName, gosnmp.GetResponse, req.RequestID, nil)
	}
	if err != nil {
		return nil
	}
	r.count.acknowledged.Add(1)
	return out
}

// report is the Report for a refused message that asked for one (RFC 3412 7.1.3c):
// unauthenticated, except notInTimeWindow for this engine (k set, level FlagAuth).
func (r *Receiver) report(m *usm.Message, k *usm.Key, level byte, oid string, n uint64) []byte {
	if !m.Reportable() {
		return nil
	}
	reqID, contextName := usm.PeekRequest(m)
	vars := []gosnmp.SnmpPDU{{Name: oid, Type: gosnmp.Counter32, Value: uint32(n)}}
	out, err := r.marshalV3(m, k, level, r.engineID, contextName, gosnmp.Report, reqID, vars)
	if err != nil {
		return nil
	}
	return out
}

// marshalV3 encodes a Response or Report from this engine with gosnmp's encoder, which
// authenticates and encrypts it with the localized keys. With k nil the message goes
// at noAuthNoPriv under the request's user name.
func (r *Receiver) marshalV3(m *usm.Message, k *usm.Key, level byte, contextEngineID []byte, contextName string,
	t gosnmp.PDUType, reqID uint32, vars []gosnmp.SnmpPDU) ([]byte, error) {
	boots, now := r.bootsTime()
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(r.engineID),
		AuthoritativeEngineBoots: boots,
		AuthoritativeEngineTime:  now,
		UserName:                 string(m.User),
		AuthenticationProtocol:   gosnmp.NoAuth,
		PrivacyProtocol:          gosnmp.NoPriv,
	}
	if k == nil {
		level = 0
	}
	if level&usm.FlagAuth != 0 {
		sp.AuthenticationProtocol, sp.SecretKey = k.Auth, k.AuthKey
	}
	if level&usm.FlagPriv != 0 {
		sp.PrivacyProtocol, sp.PrivacyKey = k.Priv, k.PrivKey
		sp.PrivacyParameters = r.salt.Next(k.Priv, boots)
	}
	if len(contextEngineID) == 0 {
		contextEngineID = r.engineID
	}
	p := &gosnmp.SnmpPacket{
		Version:            gosnmp.Version3,
		MsgFlags:           gosnmp.SnmpV3MsgFlags(level),
		SecurityModel:      gosnmp.UserSecurityModel,
		MsgID:              uint32(m.MsgID),
		MsgMaxSize:         maxDatagram - 28,
		SecurityParameters: sp,
		ContextEngineID:    string(contextEngineID),
		ContextName:        contextName,
		PDUType:            t,
		RequestID:          reqID,
		Variables:          vars,
	}
	return p.MarshalMsg()
}

// clip32 bounds a header field an unauthenticated peer chose before it goes into a log
// line: user names and engine IDs have at most 32 bytes (RFC 3411, RFC 3414).
func clip32(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
