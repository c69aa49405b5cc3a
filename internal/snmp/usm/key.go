package usm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/gosnmp/gosnmp"
)

// User is an SNMPv3 USM user. An empty AuthPass means noAuthNoPriv, an empty PrivPass
// authNoPriv. Passphrases never appear in logs or errors.
type User struct {
	Name      string
	AuthProto gosnmp.SnmpV3AuthProtocol
	AuthPass  string
	PrivProto gosnmp.SnmpV3PrivProtocol
	PrivPass  string
}

// Key is a User with its keys localized to one engine ID (RFC 3414 2.6); the
// passphrases themselves are not kept. Make it with Localize and do not change it: the
// keyed HMAC and cipher are prepared once, for every message it checks.
type Key struct {
	Name    string
	Auth    gosnmp.SnmpV3AuthProtocol
	Priv    gosnmp.SnmpV3PrivProtocol
	AuthKey []byte
	PrivKey []byte

	prep *prepared // nil for a Key not made by Localize: everything keyed per message
}

// prepared is what a Key keys once instead of per message: HMACs over the
// authentication key (reset between messages; hmac keeps its inner and outer pads) and
// the privacy cipher's key schedule (Go's AES and DES blocks hold nothing else, so one
// serves every goroutine).
type prepared struct {
	macs     sync.Pool // hash.Hash
	block    cipher.Block
	blockErr error
}

func (k *Key) prepare() {
	p := &prepared{}
	if k.Auth != gosnmp.NoAuth {
		newHash, key := k.Auth.HashType().New, k.AuthKey
		p.macs.New = func() any { return hmac.New(newHash, key) }
	}
	switch k.Priv {
	case gosnmp.NoPriv:
	default:
		p.block, p.blockErr = k.newBlock()
	}
	k.prep = p
}

// Level is the highest security level the user can use.
func (k *Key) Level() byte {
	switch {
	case k.Priv != gosnmp.NoPriv:
		return FlagAuth | FlagPriv
	case k.Auth != gosnmp.NoAuth:
		return FlagAuth
	}
	return 0
}

// MACLen is the length of the truncated HMAC in msgAuthenticationParameters (RFC 3414 6
// and 7, RFC 7860 4.2); 0 for a protocol hsmwatch does not support.
func MACLen(p gosnmp.SnmpV3AuthProtocol) int {
	switch p {
	case gosnmp.MD5, gosnmp.SHA:
		return 12
	case gosnmp.SHA224:
		return 16
	case gosnmp.SHA256:
		return 24
	case gosnmp.SHA384:
		return 32
	case gosnmp.SHA512:
		return 48
	}
	return 0
}

// LocalizeAll checks users and derives their keys for engineID. Errors name the user,
// never a passphrase.
func LocalizeAll(users []User, engineID []byte) (map[string]*Key, error) {
	out := make(map[string]*Key, len(users))
	for _, u := range users {
		k, err := Localize(u, engineID)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", u.Name, err)
		}
		if _, dup := out[u.Name]; dup {
			return nil, fmt.Errorf("user %q configured twice", u.Name)
		}
		out[u.Name] = k
	}
	return out, nil
}

// Localize checks u and derives its keys for engineID with gosnmp's password-to-key
// functions. Errors never quote a passphrase.
func Localize(u User, engineID []byte) (*Key, error) {
	if u.Name == "" || len(u.Name) > 32 {
		return nil, errors.New("user name must have 1 to 32 bytes")
	}
	k := &Key{Name: u.Name, Auth: gosnmp.NoAuth, Priv: gosnmp.NoPriv}
	if u.AuthPass == "" {
		if u.PrivPass != "" {
			return nil, errors.New("privacy needs authentication: the auth passphrase is empty")
		}
		return k, nil
	}
	if MACLen(u.AuthProto) == 0 {
		return nil, fmt.Errorf("unsupported auth protocol %v", u.AuthProto)
	}
	// RFC 3414 11.2: passphrases shorter than 8 characters are refused by net-snmp and
	// gosnmp alike; say so rather than fail later.
	if len(u.AuthPass) < 8 || (u.PrivPass != "" && len(u.PrivPass) < 8) {
		return nil, errors.New("passphrases must have at least 8 characters (RFC 3414 11.2)")
	}
	k.Auth = u.AuthProto
	if u.PrivPass != "" {
		if u.PrivProto < gosnmp.DES || u.PrivProto > gosnmp.AES256C {
			return nil, fmt.Errorf("unsupported privacy protocol %v", u.PrivProto)
		}
		k.Priv = u.PrivProto
	}
	sp := gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(engineID),
		AuthenticationProtocol:   k.Auth,
		AuthenticationPassphrase: u.AuthPass,
		PrivacyProtocol:          k.Priv,
		PrivacyPassphrase:        u.PrivPass,
	}
	if err := sp.InitSecurityKeys(); err != nil {
		return nil, errors.New("cannot derive keys") // gosnmp's text may quote settings
	}
	k.AuthKey, k.PrivKey = sp.SecretKey, sp.PrivacyKey
	if len(k.AuthKey) == 0 || (k.Priv != gosnmp.NoPriv && len(k.PrivKey) == 0) {
		return nil, errors.New("cannot derive keys")
	}
	k.prepare()
	return k, nil
}

// getMAC returns a reset HMAC for the user's protocol over the localized key; putMAC
// gives it back.
func (k *Key) getMAC() hash.Hash {
	if k.prep == nil {
		return hmac.New(k.Auth.HashType().New, k.AuthKey)
	}
	mac := k.prep.macs.Get().(hash.Hash)
	mac.Reset()
	return mac
}

func (k *Key) putMAC(mac hash.Hash) {
	if k.prep != nil {
		k.prep.macs.Put(mac)
	}
}

// cipherBlock returns the privacy cipher keyed with the localized privacy key.
func (k *Key) cipherBlock() (cipher.Block, error) {
	if k.prep != nil {
		return k.prep.block, k.prep.blockErr
	}
	return k.newBlock()
}

func (k *Key) newBlock() (cipher.Block, error) {
	if k.Priv == gosnmp.DES {
		if len(k.PrivKey) < 16 {
			return nil, errors.New("DES privacy key shorter than 16 bytes")
		}
		return des.NewCipher(k.PrivKey[:8])
	}
	return aes.NewCipher(k.PrivKey)
}

// Authentic checks msgAuthenticationParameters (RFC 3414 3.2.6): the HMAC of the whole
// message with that field zeroed. It zeroes the field in msg.
func (k *Key) Authentic(msg []byte, authParams []byte) bool {
	n := MACLen(k.Auth)
	if n == 0 || len(authParams) != n {
		return false
	}
	var got [48]byte
	copy(got[:], authParams)
	clear(authParams)
	mac := k.getMAC()
	defer k.putMAC(mac)
	mac.Write(msg)
	var sum [64]byte
	return hmac.Equal(mac.Sum(sum[:0])[:n], got[:n])
}

// Decrypt returns the plaintext scoped PDU (RFC 3414 8.3.2 for DES, RFC 3826 3.1.4 for
// AES; the 192 and 256-bit variants use the same CFB mode with longer keys).
func (k *Key) Decrypt(boots, engineTime uint32, salt, ct []byte) ([]byte, error) {
	if len(salt) != 8 {
		return nil, errors.New("privacy parameters are not 8 bytes")
	}
	switch k.Priv {
	case gosnmp.NoPriv:
		return nil, errors.New("user has no privacy key")
	case gosnmp.DES:
		if len(ct) == 0 || len(ct)%des.BlockSize != 0 {
			return nil, errors.New("DES ciphertext is not a whole number of blocks")
		}
		block, err := k.cipherBlock()
		if err != nil {
			return nil, err
		}
		var iv [8]byte
		for i := range iv {
			iv[i] = k.PrivKey[8+i] ^ salt[i]
		}
		pt := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(pt, ct)
		return pt, nil
	default:
		block, err := k.cipherBlock()
		if err != nil {
			return nil, err
		}
		var iv [16]byte
		binary.BigEndian.PutUint32(iv[0:], boots)
		binary.BigEndian.PutUint32(iv[4:], engineTime)
		copy(iv[8:], salt)
		pt := make([]byte, len(ct))
		//lint:ignore SA1019 RFC 3826 specifies CFB-128; there is no AEAD in SNMPv3.
		cipher.NewCFBDecrypter(block, iv[:]).XORKeyStream(pt, ct)
		return pt, nil
	}
}

// Salter hands out msgPrivacyParameters for encrypted messages an engine sends: a 64-bit
// counter for AES, engine boots and a 32-bit counter for DES (RFC 3414 8.1.1.1, RFC 3826
// 3.1.2.1). Seed it once; it is safe for concurrent use.
type Salter struct{ n atomic.Uint64 }

// Seed starts the counter at a random value, which keeps salts unique across restarts
// with the same keys.
func (s *Salter) Seed() {
	var seed [8]byte
	rand.Read(seed[:])
	s.n.Store(binary.BigEndian.Uint64(seed[:]))
}

// Next returns fresh privacy parameters for protocol p.
func (s *Salter) Next(p gosnmp.SnmpV3PrivProtocol, boots uint32) []byte {
	n := s.n.Add(1)
	salt := make([]byte, 8)
	if p == gosnmp.DES {
		binary.BigEndian.PutUint32(salt, boots)
		binary.BigEndian.PutUint32(salt[4:], uint32(n))
		return salt
	}
	binary.BigEndian.PutUint64(salt, n)
	return salt
}
