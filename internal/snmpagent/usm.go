package snmpagent

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/gosnmp/gosnmp"
)

// usmUser is a User with its keys localized to the agent's engine ID (RFC 3414 2.6);
// the passphrases themselves are not kept.
type usmUser struct {
	name    string
	auth    gosnmp.SnmpV3AuthProtocol
	priv    gosnmp.SnmpV3PrivProtocol
	authKey []byte
	privKey []byte
}

// Security levels as msgFlags carries them.
const (
	flagAuth       = byte(gosnmp.AuthNoPriv)
	flagPriv       = 0x02
	flagReportable = byte(gosnmp.Reportable)
)

// level is the highest security level the user can use.
func (u *usmUser) level() byte {
	switch {
	case u.priv != gosnmp.NoPriv:
		return flagAuth | flagPriv
	case u.auth != gosnmp.NoAuth:
		return flagAuth
	}
	return 0
}

// macLen is the length of the truncated HMAC in msgAuthenticationParameters
// (RFC 3414 6 and 7, RFC 7860 4.2).
func macLen(p gosnmp.SnmpV3AuthProtocol) int {
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

// localizeUsers checks the configured users and derives their keys with gosnmp's
// password-to-key functions. Errors name the user, never a passphrase.
func localizeUsers(users []User, engineID []byte) (map[string]*usmUser, error) {
	out := make(map[string]*usmUser, len(users))
	for _, u := range users {
		uu, err := localize(u, engineID)
		if err != nil {
			return nil, fmt.Errorf("snmpagent: user %q: %w", u.Name, err)
		}
		if _, dup := out[u.Name]; dup {
			return nil, fmt.Errorf("snmpagent: user %q configured twice", u.Name)
		}
		out[u.Name] = uu
	}
	return out, nil
}

func localize(u User, engineID []byte) (*usmUser, error) {
	if u.Name == "" || len(u.Name) > 32 {
		return nil, errors.New("user name must have 1 to 32 bytes")
	}
	uu := &usmUser{name: u.Name, auth: gosnmp.NoAuth, priv: gosnmp.NoPriv}
	if u.AuthPass == "" {
		if u.PrivPass != "" {
			return nil, errors.New("privacy needs authentication: AuthPass is empty")
		}
		return uu, nil
	}
	if macLen(u.AuthProto) == 0 {
		return nil, fmt.Errorf("unsupported auth protocol %v", u.AuthProto)
	}
	uu.auth = u.AuthProto
	if u.PrivPass != "" {
		if u.PrivProto < gosnmp.DES || u.PrivProto > gosnmp.AES256C {
			return nil, fmt.Errorf("unsupported privacy protocol %v", u.PrivProto)
		}
		uu.priv = u.PrivProto
	}
	sp := gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(engineID),
		AuthenticationProtocol:   uu.auth,
		AuthenticationPassphrase: u.AuthPass,
		PrivacyProtocol:          uu.priv,
		PrivacyPassphrase:        u.PrivPass,
	}
	if err := sp.InitSecurityKeys(); err != nil {
		return nil, errors.New("cannot derive keys") // gosnmp's text may quote settings
	}
	uu.authKey, uu.privKey = sp.SecretKey, sp.PrivacyKey
	if len(uu.authKey) == 0 || (uu.priv != gosnmp.NoPriv && len(uu.privKey) == 0) {
		return nil, errors.New("cannot derive keys")
	}
	return uu, nil
}

// newMAC returns the HMAC for the user's protocol over the localized key.
func (u *usmUser) newMAC() hash.Hash {
	return hmac.New(u.auth.HashType().New, u.authKey)
}

// authentic checks msgAuthenticationParameters (RFC 3414 3.2.6): the HMAC of the whole
// message with that field zeroed. It zeroes the field in msg.
func (u *usmUser) authentic(msg []byte, authParams []byte) bool {
	n := macLen(u.auth)
	if len(authParams) != n {
		return false
	}
	var got [48]byte
	copy(got[:], authParams)
	clear(authParams)
	mac := u.newMAC()
	mac.Write(msg)
	return hmac.Equal(mac.Sum(nil)[:n], got[:n])
}

// decrypt returns the plaintext scoped PDU (RFC 3414 8.3.2 for DES, RFC 3826 3.1.4
// for AES; the 192 and 256-bit variants use the same CFB mode with longer keys).
func (u *usmUser) decrypt(boots, engineTime uint32, salt, ct []byte) ([]byte, error) {
	if len(salt) != 8 {
		return nil, errors.New("privacy parameters are not 8 bytes")
	}
	switch u.priv {
	case gosnmp.DES:
		if len(ct) == 0 || len(ct)%des.BlockSize != 0 {
			return nil, errors.New("DES ciphertext is not a whole number of blocks")
		}
		block, err := des.NewCipher(u.privKey[:8])
		if err != nil {
			return nil, err
		}
		var iv [8]byte
		for i := range iv {
			iv[i] = u.privKey[8+i] ^ salt[i]
		}
		pt := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, iv[:]).CryptBlocks(pt, ct)
		return pt, nil
	default:
		block, err := aes.NewCipher(u.privKey)
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

// newSalt returns fresh msgPrivacyParameters for an encrypted response: a 64-bit
// counter for AES, engine boots and a 32-bit counter for DES (RFC 3414 8.1.1.1).
func (a *Agent) newSalt(p gosnmp.SnmpV3PrivProtocol, boots uint32) []byte {
	n := a.salt.Add(1)
	salt := make([]byte, 8)
	if p == gosnmp.DES {
		binary.BigEndian.PutUint32(salt, boots)
		binary.BigEndian.PutUint32(salt[4:], uint32(n))
		return salt
	}
	binary.BigEndian.PutUint64(salt, n)
	return salt
}
