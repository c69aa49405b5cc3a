// Package lunatrap holds what hsmwatch knows about the Luna Network HSM 7 trap agent
// (lsta, guide chapter 6): its six notification categories of SAFENET-APPLIANCE-MIB and
// the ssLogReference text each notification carries. The trap receiver
// (internal/snmp/receiver) reads it; the trap sink (internal/snmp/sender) writes it.
package lunatrap

// The six notification categories, in the guide's order. The guide's
// "ntlAttentionNotify" is a typo for ntlsAttentionNotify (the project's design notes, "Vendor facts").
const (
	Fan         = "fanAttentionNotify"
	PowerSupply = "powerSupplyAttentionNotify"
	Motherboard = "motherboardAttentionNotify"
	DiskDrive   = "diskDriveAttentionNotify"
	NTLS        = "ntlsAttentionNotify"
	Crypto      = "cryptoAttentionNotify"
)

// Module is the MIB module that defines the notifications and ssLogReference.
const Module = "SAFENET-APPLIANCE-MIB"

// LogReference is the name of the one object every notification carries.
const LogReference = "ssLogReference"

// Categories lists the six notification names in the guide's order.
func Categories() []string {
	return []string{Fan, PowerSupply, Motherboard, DiskDrive, NTLS, Crypto}
}

// IsCategory reports whether name is one of the six notifications.
func IsCategory(name string) bool {
	switch name {
	case Fan, PowerSupply, Motherboard, DiskDrive, NTLS, Crypto:
		return true
	}
	return false
}

// IPMI reports whether the category comes from IPMI sensors (ipmievd): the guide's caveat
// 4 says only these support both assert and de-assert traps.
func IPMI(name string) bool {
	switch name {
	case Fan, PowerSupply, Motherboard:
		return true
	}
	return false
}
