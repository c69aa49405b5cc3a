// Package usm holds the SNMPv3 pieces that hsmwatch's agent (internal/snmp/agent) and its
// trap receiver (internal/snmp/receiver) share: a BER header reader, the SNMPv3 message
// and USM security parameters with the offsets authentication needs (RFC 3412 6, RFC 3414
// 2.4), localized keys, authentication and decryption, and the Report counters.
//
// gosnmp encodes and decodes PDUs; it does not expose the offsets of a received message's
// security parameters, nor check a MAC before decoding, which both an agent and a receiver
// must do before any PDU work.
package usm

import (
	"errors"
	"fmt"

	"github.com/gosnmp/gosnmp"
)

// Message is an SNMPv3 message (RFC 3412 6) with the USM security parameters (RFC 3414
// 2.4) read out.
type Message struct {
	MsgID, MaxSize int64
	Flags          byte
	SecModel       int64
	EngineID, User []byte
	Boots, Time    int64
	AuthParams     []byte // a slice of the message: authentication zeroes it in place
	PrivParams     []byte
	Data           Element // plaintext ScopedPDU (SEQUENCE) or encryptedPDU (OCTET STRING)
}

// Security levels and the reportable bit, as msgFlags carries them.
const (
	FlagAuth       = byte(gosnmp.AuthNoPriv)
	FlagPriv       = 0x02
	FlagReportable = byte(gosnmp.Reportable)
)

// Level is the message's security level: 0, FlagAuth or FlagAuth|FlagPriv.
func (m *Message) Level() byte { return m.Flags & (FlagAuth | FlagPriv) }

// Reportable reports whether the sender asked for a Report on failure: set for the
// confirmed class (requests, informs), clear for traps (RFC 3412 6.4).
func (m *Message) Reportable() bool { return m.Flags&FlagReportable != 0 }

// ParseMessage reads msg, which must hold exactly one SNMPv3 message.
func ParseMessage(msg []byte) (Message, error) {
	var m Message
	r := NewReader(msg)
	top, err := r.Expect(TagSequence, "message")
	if err != nil {
		return m, err
	}
	in := r.Enter(top)
	if _, err = in.Integer("version"); err != nil {
		return m, err
	}
	if err = m.parseGlobal(in); err != nil {
		return m, err
	}
	sec, err := in.Octets("msgSecurityParameters")
	if err != nil {
		return m, err
	}
	if err = m.parseUSM(in.Enter(sec)); err != nil {
		return m, err
	}
	if m.Data, err = in.Next(); err != nil {
		return m, fmt.Errorf("msgData: %w", err)
	}
	if in.More() {
		return m, errors.New("bytes after msgData")
	}
	return m, nil
}

func (m *Message) parseGlobal(in *Reader) error {
	global, err := in.Expect(TagSequence, "msgGlobalData")
	if err != nil {
		return err
	}
	g := in.Enter(global)
	if m.MsgID, err = g.Integer("msgID"); err != nil {
		return err
	}
	if m.MaxSize, err = g.Integer("msgMaxSize"); err != nil {
		return err
	}
	flags, err := g.Octets("msgFlags")
	if err != nil {
		return err
	}
	if len(flags.Content) != 1 {
		return fmt.Errorf("msgFlags of %d bytes", len(flags.Content))
	}
	m.Flags = flags.Content[0]
	if m.SecModel, err = g.Integer("msgSecurityModel"); err != nil {
		return err
	}
	if m.MsgID < 0 || m.MaxSize < 0 {
		return errors.New("negative msgID or msgMaxSize")
	}
	return nil
}

func (m *Message) parseUSM(s *Reader) error {
	seq, err := s.Expect(TagSequence, "UsmSecurityParameters")
	if err != nil {
		return err
	}
	u := s.Enter(seq)
	var e Element
	if e, err = u.Octets("msgAuthoritativeEngineID"); err != nil {
		return err
	}
	m.EngineID = e.Content
	if m.Boots, err = u.Integer("msgAuthoritativeEngineBoots"); err != nil {
		return err
	}
	if m.Time, err = u.Integer("msgAuthoritativeEngineTime"); err != nil {
		return err
	}
	if e, err = u.Octets("msgUserName"); err != nil {
		return err
	}
	m.User = e.Content
	if e, err = u.Octets("msgAuthenticationParameters"); err != nil {
		return err
	}
	m.AuthParams = e.Content
	if e, err = u.Octets("msgPrivacyParameters"); err != nil {
		return err
	}
	m.PrivParams = e.Content
	return nil
}

// Scoped is a decoded ScopedPDU.
type Scoped struct {
	ContextEngineID []byte
	ContextName     string
	PDU             []byte // the PDU's whole TLV
}

// ParseScoped reads a ScopedPDU (RFC 3412 6.8) from its TLV; trailing bytes (DES
// padding) are ignored.
func ParseScoped(b []byte) (Scoped, error) {
	var s Scoped
	r := NewReader(b)
	seq, err := r.Expect(TagSequence, "ScopedPDU")
	if err != nil {
		return s, err
	}
	in := r.Enter(seq)
	ctxEngine, err := in.Octets("contextEngineID")
	if err != nil {
		return s, err
	}
	name, err := in.Octets("contextName")
	if err != nil {
		return s, err
	}
	pdu, err := in.Next()
	if err != nil {
		return s, fmt.Errorf("PDU: %w", err)
	}
	if pdu.Tag&0xE0 != 0xA0 {
		return s, fmt.Errorf("PDU: tag %#x is not a context-specific constructed type", pdu.Tag)
	}
	s.ContextEngineID = ctxEngine.Content
	s.ContextName = string(name.Content)
	s.PDU = pdu.Raw(b)
	return s, nil
}

// WrapPDU builds the v2c-shaped message gosnmp's decoder reads: SEQUENCE { 1, "", PDU }.
func WrapPDU(pdu []byte) []byte {
	body := len(pdu) + 5
	out := make([]byte, 0, body+6)
	out = append(out, TagSequence)
	out = AppendLength(out, body)
	out = append(out, TagInteger, 1, 1, TagOctetString, 0)
	return append(out, pdu...)
}

// PeekRequest reads the request-id and context name of a plaintext ScopedPDU for a
// Report; an encrypted one leaves them zero, as RFC 3412 7.1.3c allows.
func PeekRequest(m *Message) (uint32, string) {
	if m.Data.Tag != TagSequence {
		return 0, ""
	}
	r := NewReader(m.Data.Content)
	if _, err := r.Octets("contextEngineID"); err != nil {
		return 0, ""
	}
	name, err := r.Octets("contextName")
	if err != nil {
		return 0, ""
	}
	pdu, err := r.Next()
	if err != nil {
		return 0, string(name.Content)
	}
	id, err := r.Enter(pdu).Integer("request-id")
	if err != nil {
		return 0, string(name.Content)
	}
	return uint32(id), string(name.Content)
}
