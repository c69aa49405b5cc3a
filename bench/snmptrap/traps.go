package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// Every trap carries its number in the ssLogReference's pid, written with digits
// digits, so that a receiver's output tells exactly which traps arrived: number n is
// category n%6, asserting when (n/6)%2 is 0, clearing otherwise.
const digits = 9

// The sender's identities: a v2c community, and an SNMPv3 user signing its traps under
// the sender's engine ID, as a Luna appliance does ("sysconf snmp trap set -engineid").
const (
	benchCommunity = "bench-c0mmunity"
	benchUser      = "bench"
	benchAuth      = "bench-auth-pass"
	benchPriv      = "bench-priv-pass"
)

// senderEngine is the SNMPv3 engine ID of the simulated appliance (RFC 3411 text
// format, enterprise 12383, SafeNet's).
var senderEngine = []byte("\x80\x00\x30\x5f\x04luna-bench-01")

// categories are the six Luna notifications with a process name that fits each; rules
// are the luna-traps.yaml rules that classify them (asserting; "-clear" when clearing).
var categories = [6]struct{ name, process, rule string }{
	{lunatrap.Fan, "ipmievd", "luna.trap.fan"},
	{lunatrap.PowerSupply, "ipmievd", "luna.trap.power-supply"},
	{lunatrap.Motherboard, "ipmievd", "luna.trap.motherboard"},
	{lunatrap.DiskDrive, "smartd", "luna.trap.disk-drive"},
	{lunatrap.NTLS, "NTLS", "luna.trap.ntls"},
	{lunatrap.Crypto, "lunalogd", "luna.trap.crypto"},
}

// category and asserting say what trap number n is; template is the index of its
// kind among the twelve templates (category, plus 6 when clearing).
func category(n uint64) int   { return int(n % 6) }
func asserting(n uint64) bool { return (n/6)%2 == 0 }
func template(n uint64) int   { return int(n % 12) }

// expectedRule is the catalog rule that must classify trap n.
func expectedRule(n uint64) string {
	r := categories[category(n)].rule
	if !asserting(n) {
		r += "-clear"
	}
	return r
}

// maker builds numbered traps: one message per category and flag is encoded by gosnmp
// (the template), then every numbered copy gets its digits written in. For SNMPv3
// authPriv the template's ScopedPDU is decrypted once; each copy is encrypted again with
// a salt of its own and signed (RFC 3826 AES-CFB, RFC 3414 HMAC-SHA-96), so that every
// datagram is a valid, distinct message.
type maker struct {
	v3    bool
	oids  [6]string
	ref   string   // the ssLogReference OID
	key   *usm.Key // the user's keys localized to senderEngine
	start time.Time
	salt  uint64
}

func newMaker(v3 bool, tb *mib.Table) (*maker, error) {
	m := &maker{v3: v3, start: time.Now()}
	for i, c := range categories {
		oid, ok := tb.Resolve(lunatrap.Module + "::" + c.name)
		if !ok {
			return nil, fmt.Errorf("the MIBs do not name %s (load the project's mibs/)", c.name)
		}
		m.oids[i] = oid
	}
	var ok bool
	if m.ref, ok = tb.Resolve(lunatrap.Module + "::" + lunatrap.LogReference); !ok {
		return nil, errors.New("the MIBs do not name ssLogReference")
	}
	if v3 {
		k, err := usm.Localize(benchUserKeys(), senderEngine)
		if err != nil {
			return nil, err
		}
		m.key = k
	}
	return m, nil
}

func benchUserKeys() usm.User {
	return usm.User{Name: benchUser, AuthProto: gosnmp.SHA, AuthPass: benchAuth, PrivProto: gosnmp.AES, PrivPass: benchPriv}
}

// tmpl is one encoded template and where its number goes.
type tmpl struct {
	msg    []byte
	at     int // offset of the digits: in msg (v2c) or in plain (v3)
	plain  []byte
	boots  uint32
	time   uint32
	ct     int // offset of the ciphertext in msg
	salt   int // offset of msgPrivacyParameters
	mac    int // offset of msgAuthenticationParameters
	macLen int
}

// batch is n numbered datagrams in one arena.
type batch struct {
	data []byte
	ends []int
}

func (b *batch) len() int { return len(b.ends) }
func (b *batch) at(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.data[start:b.ends[i]]
}

// build returns traps first .. first+n-1.
func (m *maker) build(first uint64, n int) (*batch, error) {
	if first == 0 || first+uint64(n) > 999_999_999 {
		return nil, fmt.Errorf("trap numbers %d to %d: want 1 to %d digits", first, first+uint64(n)-1, digits)
	}
	var ts [12]tmpl
	for i := range ts {
		t, err := m.template(i)
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	b := &batch{data: make([]byte, 0, n*(len(ts[0].msg)+8)), ends: make([]int, 0, n)}
	var block cipher.Block
	var mac hash.Hash
	if m.v3 {
		var err error
		if block, err = aes.NewCipher(m.key.PrivKey); err != nil {
			return nil, err
		}
		mac = hmac.New(sha1.New, m.key.AuthKey)
	}
	plain := make([]byte, 0, 512)
	for i := 0; i < n; i++ {
		num := first + uint64(i)
		t := &ts[template(num)]
		off := len(b.data)
		b.data = append(b.data, t.msg...)
		msg := b.data[off:]
		if !m.v3 {
			putDigits(msg[t.at:], num)
			b.ends = append(b.ends, len(b.data))
			continue
		}
		plain = append(plain[:0], t.plain...)
		putDigits(plain[t.at:], num)
		m.salt++
		binary.BigEndian.PutUint64(msg[t.salt:], m.salt)
		var iv [16]byte
		binary.BigEndian.PutUint32(iv[0:], t.boots)
		binary.BigEndian.PutUint32(iv[4:], t.time)
		copy(iv[8:], msg[t.salt:t.salt+8])
		//lint:ignore SA1019 RFC 3826 specifies CFB-128.
		cipher.NewCFBEncrypter(block, iv[:]).XORKeyStream(msg[t.ct:t.ct+len(plain)], plain)
		clear(msg[t.mac : t.mac+t.macLen])
		mac.Reset()
		mac.Write(msg)
		copy(msg[t.mac:], mac.Sum(nil)[:t.macLen])
		b.ends = append(b.ends, len(b.data))
	}
	return b, nil
}

// placeholder is the number the templates carry before each copy gets its own.
var placeholder = bytes.Repeat([]byte{'9'}, digits)

func putDigits(b []byte, n uint64) {
	for i := digits - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}

// template encodes trap kind i (category i%6, clearing when i >= 6) with gosnmp.
func (m *maker) template(i int) (tmpl, error) {
	c := categories[i%6]
	flag := flagOf(i < 6)
	ref := "[luna-bench-01:192.168.0.101 / messages / 2026 Nov 22 12:05:01 / " + c.process + "[" + string(placeholder) + "] / " + flag + "]"
	vars := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(time.Since(m.start) / (10 * time.Millisecond))},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: m.oids[i%6]},
		{Name: m.ref, Type: gosnmp.OctetString, Value: ref},
	}
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: benchCommunity, PDUType: gosnmp.SNMPv2Trap,
		RequestID: uint32(i + 1), Variables: vars}
	var t tmpl
	if !m.v3 {
		msg, err := p.MarshalMsg()
		if err != nil {
			return t, err
		}
		t.msg, t.at = msg, bytes.Index(msg, placeholder)
		return t, nil
	}
	// The engine time moves with the clock, as an appliance's does: receivers keep a
	// replay window of 150 s.
	t.boots, t.time = 7, uint32(1000+time.Since(m.start)/time.Second)
	p.Version = gosnmp.Version3
	p.Community = ""
	p.MsgFlags = gosnmp.AuthPriv
	p.SecurityModel = gosnmp.UserSecurityModel
	p.MsgID = uint32(i + 1)
	p.MsgMaxSize = 65507
	p.ContextEngineID = string(senderEngine)
	p.SecurityParameters = &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID: string(senderEngine), AuthoritativeEngineBoots: t.boots, AuthoritativeEngineTime: t.time,
		UserName: benchUser, AuthenticationProtocol: m.key.Auth, PrivacyProtocol: m.key.Priv,
		SecretKey: m.key.AuthKey, PrivacyKey: m.key.PrivKey, PrivacyParameters: make([]byte, 8),
	}
	msg, err := p.MarshalMsg()
	if err != nil {
		return t, err
	}
	pm, err := usm.ParseMessage(msg)
	if err != nil {
		return t, fmt.Errorf("template: %w", err)
	}
	if !verify(m.key, msg) {
		return t, errors.New("template: gosnmp's MAC does not verify")
	}
	// Offsets of sub-slices of msg: cap(msg[i:]) = cap(msg) - i.
	t.msg = msg
	t.salt = cap(msg) - cap(pm.PrivParams)
	t.mac = cap(msg) - cap(pm.AuthParams)
	t.macLen = len(pm.AuthParams)
	t.ct = cap(msg) - cap(pm.Data.Content)
	if t.plain, err = m.key.Decrypt(uint32(pm.Boots), uint32(pm.Time), pm.PrivParams, pm.Data.Content); err != nil {
		return t, fmt.Errorf("template: %w", err)
	}
	if len(t.plain) != len(pm.Data.Content) || len(pm.PrivParams) != 8 {
		return t, errors.New("template: unexpected encryption layout")
	}
	if t.at = bytes.Index(t.plain, placeholder); t.at < 0 {
		return t, errors.New("template: no placeholder in the ScopedPDU")
	}
	return t, nil
}

// verify checks a message's MAC on a copy (checking zeroes the MAC field in place).
func verify(k *usm.Key, msg []byte) bool {
	cp := append([]byte(nil), msg...)
	pm, err := usm.ParseMessage(cp)
	return err == nil && k.Authentic(cp, pm.AuthParams)
}

func flagOf(assert bool) string {
	if assert {
		return "1"
	}
	return "0"
}

// send writes the batch to conn at rate datagrams per second (0: as fast as it can),
// pacing by the clock: after each pause it sends what is due. It returns when the last
// datagram was written.
func send(conn *net.UDPConn, b *batch, rate float64) (time.Time, error) {
	start := time.Now()
	n := b.len()
	for i := 0; i < n; {
		due := n
		if rate > 0 {
			due = min(n, int(time.Since(start).Seconds()*rate)+1)
		}
		for ; i < due; i++ {
			if _, err := conn.Write(b.at(i)); err != nil {
				return time.Now(), fmt.Errorf("send datagram %d of %d: %w", i+1, n, err)
			}
		}
		if i < n {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return time.Now(), nil
}

// parseNumber finds a trap's number in one line of a receiver's output: the first
// place where digits digits, then "]" or not (snmptt drops brackets), then " / 0" or
// " / 1" appear. It returns the number and whether the flag says assert.
func parseNumber(line []byte) (n uint64, assert, ok bool) {
	for rest, base := line, 0; ; {
		i := bytes.Index(rest, []byte(" / "))
		if i < 0 || i+3 >= len(rest) {
			return 0, false, false
		}
		at := base + i
		end := at
		if end > 0 && line[end-1] == ']' {
			end--
		}
		if f := line[at+3]; end >= digits && (f == '0' || f == '1') {
			if v, err := strconv.ParseUint(string(line[end-digits:end]), 10, 64); err == nil && allDigits(line[end-digits:end]) {
				return v, f == '1', true
			}
		}
		rest, base = rest[i+3:], at+3
	}
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
