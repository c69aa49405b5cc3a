package agent

import "github.com/gosnmp/gosnmp"

// The USM work itself (header parsing, key localization, authentication, decryption) is
// in internal/snmp/usm, shared with the trap receiver.

// newSalt returns fresh msgPrivacyParameters for an encrypted response.
func (a *Agent) newSalt(p gosnmp.SnmpV3PrivProtocol, boots uint32) []byte {
	return a.salt.Next(p, boots)
}
