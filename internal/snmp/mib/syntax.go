package mib

import "strings"

// The SMI base types (RFC 2578 section 7.1, and SMIv1's names mapped to them).
const (
	BaseInteger   = "INTEGER" // INTEGER and Integer32
	BaseUnsigned  = "Unsigned32"
	BaseGauge     = "Gauge32"
	BaseCounter32 = "Counter32"
	BaseCounter64 = "Counter64"
	BaseTimeTicks = "TimeTicks"
	BaseOctets    = "OCTET STRING"
	BaseOID       = "OBJECT IDENTIFIER"
	BaseIPAddress = "IpAddress"
	BaseOpaque    = "Opaque"
	BaseBits      = "BITS"
)

// baseNames maps a syntax name that is a base type (or SMIv1's name of one) to it.
var baseNames = map[string]string{
	"INTEGER": BaseInteger, "Integer32": BaseInteger,
	"Unsigned32": BaseUnsigned, "Gauge32": BaseGauge, "Gauge": BaseGauge,
	"Counter32": BaseCounter32, "Counter": BaseCounter32, "Counter64": BaseCounter64,
	"TimeTicks": BaseTimeTicks, "OCTET STRING": BaseOctets, "OBJECT IDENTIFIER": BaseOID,
	"IpAddress": BaseIPAddress, "NetworkAddress": BaseIPAddress, "Opaque": BaseOpaque, "BITS": BaseBits,
}

// wellKnownTCs are the textual conventions of SNMPv2-TC, HCNUM-TC and the other IETF
// modules that vendor MIBs use without the folder holding them, by their syntax.
var wellKnownTCs = map[string]string{
	"DisplayString": "OCTET STRING", "PhysAddress": "OCTET STRING", "MacAddress": "OCTET STRING",
	"DateAndTime": "OCTET STRING", "SnmpAdminString": "OCTET STRING", "TAddress": "OCTET STRING",
	"TruthValue": "INTEGER", "RowStatus": "INTEGER", "StorageType": "INTEGER", "TestAndIncr": "INTEGER",
	"TimeInterval": "INTEGER", "TimeStamp": "TimeTicks", "AutonomousType": "OBJECT IDENTIFIER",
	"InstancePointer": "OBJECT IDENTIFIER", "VariablePointer": "OBJECT IDENTIFIER", "RowPointer": "OBJECT IDENTIFIER",
	"TDomain": "OBJECT IDENTIFIER", "KBytes": "Integer32", "InterfaceIndex": "Integer32",
	"InterfaceIndexOrZero": "Integer32", "CounterBasedGauge64": "Counter64", "ZeroBasedCounter64": "Counter64",
}

// baseOf resolves syntax to its base type through tcs (TC name -> its syntax, the loaded
// modules' first) and the well-known conventions; "" when it cannot.
func baseOf(syntax string, tcs map[string]string) string {
	name := strings.Join(strings.Fields(syntax), " ")
	for range 16 { // a chain of conventions; a cycle ends here
		if b, ok := baseNames[name]; ok {
			return b
		}
		next, ok := tcs[name]
		if !ok {
			next, ok = wellKnownTCs[name]
		}
		if !ok {
			return ""
		}
		name = strings.Join(strings.Fields(next), " ")
	}
	return ""
}
