package usm

import "errors"

// SetPassphrases fills the user's protocols and passphrases from their names (as
// AuthProtocol and PrivProtocol read them): a protocol whose passphrase is "" is not used,
// so the user's security level follows the passphrases given. Errors never hold a
// passphrase.
func (u *User) SetPassphrases(authProto, auth, privProto, priv string) error {
	if auth != "" {
		p, err := AuthProtocol(authProto)
		if err != nil {
			return err
		}
		u.AuthProto, u.AuthPass = p, auth
	}
	if priv != "" {
		if auth == "" {
			return errors.New("a privacy passphrase needs an authentication passphrase")
		}
		p, err := PrivProtocol(privProto)
		if err != nil {
			return err
		}
		u.PrivProto, u.PrivPass = p, priv
	}
	return nil
}
