package usm

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

var engine = []byte("\x80\x00\x1f\x88\x04usm-test")

// message encodes a v3 GetRequest from u with gosnmp, as a peer would send it.
func message(t testing.TB, u User, flags gosnmp.SnmpV3MsgFlags, salt []byte) []byte {
	t.Helper()
	sp := &gosnmp.UsmSecurityParameters{UserName: u.Name, AuthoritativeEngineID: string(engine),
		AuthoritativeEngineBoots: 7, AuthoritativeEngineTime: 1234,
		AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	if flags&gosnmp.AuthNoPriv != 0 {
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = u.AuthProto, u.AuthPass
	}
	if flags&gosnmp.AuthPriv == gosnmp.AuthPriv {
		sp.PrivacyProtocol, sp.PrivacyPassphrase, sp.PrivacyParameters = u.PrivProto, u.PrivPass, salt
	}
	if err := sp.InitSecurityKeys(); err != nil {
		t.Fatal(err)
	}
	b, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgFlags: flags | gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		MsgID: 42, MsgMaxSize: 1500, SecurityParameters: sp, ContextEngineID: string(engine), ContextName: "ctx",
		PDUType: gosnmp.GetRequest, RequestID: 99, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.Null}}}).MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAgainstGosnmp: what gosnmp authenticates and encrypts, these keys verify and
// decrypt, for every protocol pair; a wrong passphrase fails the MAC.
func TestAgainstGosnmp(t *testing.T) {
	for _, c := range []struct {
		auth gosnmp.SnmpV3AuthProtocol
		priv gosnmp.SnmpV3PrivProtocol
	}{{gosnmp.MD5, gosnmp.DES}, {gosnmp.SHA, gosnmp.AES}, {gosnmp.SHA224, gosnmp.AES192}, {gosnmp.SHA256, gosnmp.AES192C},
		{gosnmp.SHA384, gosnmp.AES256}, {gosnmp.SHA512, gosnmp.AES256C}} {
		u := User{Name: "u", AuthProto: c.auth, AuthPass: "authpass123", PrivProto: c.priv, PrivPass: "privpass123"}
		var salts Salter
		salts.Seed()
		msg := message(t, u, gosnmp.AuthPriv, salts.Next(c.priv, 7))
		m, err := ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		if m.MsgID != 42 || m.Boots != 7 || m.Time != 1234 || string(m.User) != "u" || !bytes.Equal(m.EngineID, engine) ||
			m.Level() != FlagAuth|FlagPriv || !m.Reportable() || m.Data.Tag != TagOctetString {
			t.Fatalf("%v/%v: header %+v", c.auth, c.priv, m)
		}
		k, err := Localize(u, engine)
		if err != nil {
			t.Fatal(err)
		}
		wrong := u
		wrong.AuthPass = "authpass124"
		kw, _ := Localize(wrong, engine)
		clone := bytes.Clone(msg)
		mc, _ := ParseMessage(clone) // Authentic zeroes the MAC field in place
		if kw.Authentic(clone, mc.AuthParams) {
			t.Errorf("%v: a wrong passphrase authenticated", c.auth)
		}
		if !k.Authentic(msg, m.AuthParams) {
			t.Fatalf("%v: gosnmp's MAC not verified", c.auth)
		}
		pt, err := k.Decrypt(uint32(m.Boots), uint32(m.Time), m.PrivParams, m.Data.Content)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseScoped(pt)
		if err != nil {
			t.Fatalf("%v: %v", c.priv, err)
		}
		if sc.ContextName != "ctx" || !bytes.Equal(sc.ContextEngineID, engine) || sc.PDU[0] != byte(gosnmp.GetRequest) {
			t.Errorf("%v: scoped PDU %+v", c.priv, sc)
		}
	}
}

// TestPreparedKeyConcurrent: one Key checks and decrypts messages from many goroutines
// (the receiver's workers, the agent's), each message with its own salt and MAC, with
// its pooled HMACs and shared cipher; a Key without them (not made by Localize) gives
// the same answers.
func TestPreparedKeyConcurrent(t *testing.T) {
	for _, c := range []struct {
		auth gosnmp.SnmpV3AuthProtocol
		priv gosnmp.SnmpV3PrivProtocol
	}{{gosnmp.MD5, gosnmp.DES}, {gosnmp.SHA, gosnmp.AES}, {gosnmp.SHA512, gosnmp.AES256C}} {
		u := User{Name: "u", AuthProto: c.auth, AuthPass: "authpass123", PrivProto: c.priv, PrivPass: "privpass123"}
		k, err := Localize(u, engine)
		if err != nil {
			t.Fatal(err)
		}
		bare := &Key{Name: k.Name, Auth: k.Auth, Priv: k.Priv, AuthKey: k.AuthKey, PrivKey: k.PrivKey}
		var salts Salter
		salts.Seed()
		msgs := make([][]byte, 16)
		for i := range msgs {
			msgs[i] = message(t, u, gosnmp.AuthPriv, salts.Next(c.priv, 7))
		}
		errs := make(chan error, len(msgs)*2)
		for _, key := range []*Key{k, bare} {
			for i := range msgs {
				go func() {
					for range 20 {
						msg := bytes.Clone(msgs[i])
						m, err := ParseMessage(msg)
						if err != nil {
							errs <- err
							return
						}
						if i%2 == 1 {
							m.AuthParams[0] ^= 1 // a wrong MAC must fail, and not spoil the pool
							if key.Authentic(msg, m.AuthParams) {
								errs <- fmt.Errorf("%v: a wrong MAC authenticated", c.auth)
								return
							}
							continue
						}
						if !key.Authentic(msg, m.AuthParams) {
							errs <- fmt.Errorf("%v: MAC not verified", c.auth)
							return
						}
						pt, err := key.Decrypt(uint32(m.Boots), uint32(m.Time), m.PrivParams, m.Data.Content)
						if err != nil {
							errs <- err
							return
						}
						if sc, err := ParseScoped(pt); err != nil || sc.ContextName != "ctx" {
							errs <- fmt.Errorf("%v: scoped PDU %+v, %v", c.priv, sc, err)
							return
						}
					}
					errs <- nil
				}()
			}
		}
		for range len(msgs) * 2 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
}

func TestPeekRequestOfPlaintext(t *testing.T) {
	msg := message(t, User{Name: "n"}, 0, nil)
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if id, ctx := PeekRequest(&m); id != 99 || ctx != "ctx" {
		t.Errorf("PeekRequest = %d, %q", id, ctx)
	}
}

func TestLocalizeRefuses(t *testing.T) {
	for name, u := range map[string]User{
		"no name":        {AuthProto: gosnmp.SHA, AuthPass: "authpass123"},
		"priv, no auth":  {Name: "u", PrivProto: gosnmp.AES, PrivPass: "privpass123"},
		"short":          {Name: "u", AuthProto: gosnmp.SHA, AuthPass: "short"},
		"no auth proto":  {Name: "u", AuthPass: "authpass123"},
		"bad priv proto": {Name: "u", AuthProto: gosnmp.SHA, AuthPass: "authpass123", PrivProto: 42, PrivPass: "privpass123"},
	} {
		if _, err := Localize(u, engine); err == nil {
			t.Errorf("%s: accepted", name)
		} else if bytes.Contains([]byte(err.Error()), []byte("pass123")) {
			t.Errorf("%s: error quotes the passphrase: %v", name, err)
		}
	}
	if _, err := LocalizeAll([]User{{Name: "a"}, {Name: "a"}}, engine); err == nil {
		t.Error("duplicate user accepted")
	}
}

// FuzzParseMessage: no input panics the header reader, and what it accepts has its
// elements inside the message.
func FuzzParseMessage(f *testing.F) {
	f.Add(message(f, User{Name: "n"}, 0, nil))
	f.Add(message(f, User{Name: "u", AuthProto: gosnmp.SHA, AuthPass: "authpass123", PrivProto: gosnmp.AES, PrivPass: "privpass123"},
		gosnmp.AuthPriv, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		if m.Data.Offset+len(m.Data.Content) > len(b) {
			t.Fatalf("msgData beyond the message")
		}
		PeekRequest(&m)
		ParseScoped(m.Data.Raw(b))
	})
}

func TestProtocolNames(t *testing.T) {
	for name, want := range map[string]gosnmp.SnmpV3AuthProtocol{"sha": gosnmp.SHA, "SHA1": gosnmp.SHA, " sha-256 ": gosnmp.SHA256, "MD5": gosnmp.MD5} {
		if got, err := AuthProtocol(name); err != nil || got != want {
			t.Errorf("AuthProtocol(%q) = %v, %v", name, got, err)
		}
	}
	for name, want := range map[string]gosnmp.SnmpV3PrivProtocol{"aes": gosnmp.AES, "AES128": gosnmp.AES, "aes-256c": gosnmp.AES256C, "DES": gosnmp.DES} {
		if got, err := PrivProtocol(name); err != nil || got != want {
			t.Errorf("PrivProtocol(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := AuthProtocol("CRC"); err == nil || !strings.Contains(err.Error(), AuthProtocolNames) {
		t.Errorf("unknown auth protocol: %v", err)
	}
	if _, err := PrivProtocol(""); err == nil {
		t.Error("an empty privacy protocol name was accepted")
	}
}

func TestParseEngineID(t *testing.T) {
	for _, s := range []string{"0x80001f8804616263", "80001F8804616263", " 80:00:1f:88:04:61:62:63 "} {
		if b, err := ParseEngineID(s); err != nil || len(b) != 8 || b[0] != 0x80 {
			t.Errorf("ParseEngineID(%q) = %x, %v", s, b, err)
		}
	}
	for _, s := range []string{"", "0x8000", "zz00112233", "0x" + strings.Repeat("00", 33)} {
		if _, err := ParseEngineID(s); err == nil {
			t.Errorf("ParseEngineID(%q) accepted", s)
		}
	}
}
