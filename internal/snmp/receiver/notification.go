package receiver

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// Standard objects of every SNMPv2 notification (RFC 3416 4.2.6, RFC 3584 3.1).
const (
	oidSysUpTime          = ".1.3.6.1.2.1.1.3.0"
	oidSnmpTrapOID        = ".1.3.6.1.6.3.1.1.4.1.0"
	oidSnmpTrapEnterprise = ".1.3.6.1.6.3.1.1.4.3.0"
	oidSnmpTraps          = ".1.3.6.1.6.3.1.1.5"
)

// notification is a received trap or inform in SNMPv2 form, before naming.
type notification struct {
	version  string // "1", "2c", "3"
	peer     netip.AddrPort
	user     string // v3
	engineID []byte // v3: the sending engine
	inform   bool
	trapOID  string
	uptime   uint32
	hasUp    bool
	vars     []gosnmp.SnmpPDU // without sysUpTime.0 and snmpTrapOID.0

	// SNMPv1 only.
	enterprise, agentAddr string
	generic, specific     int
}

// fromV2 reads an SNMPv2 notification's variables: sysUpTime.0 and snmpTrapOID.0 (which
// RFC 3416 puts first and second; any position is accepted), then the rest.
func (n *notification) fromV2(vars []gosnmp.SnmpPDU) error {
	n.vars = make([]gosnmp.SnmpPDU, 0, len(vars))
	for _, v := range vars {
		switch normOID(v.Name) {
		case oidSysUpTime:
			if t, ok := toUint64(v.Value); ok && v.Type == gosnmp.TimeTicks {
				n.uptime, n.hasUp = uint32(t), true
				continue
			}
		case oidSnmpTrapOID:
			if s, ok := v.Value.(string); ok && v.Type == gosnmp.ObjectIdentifier && n.trapOID == "" {
				n.trapOID = normOID(s)
				continue
			}
		}
		n.vars = append(n.vars, v)
	}
	if n.trapOID == "" {
		return errNoTrapOID
	}
	return nil
}

// fromV1 turns an SNMPv1 Trap-PDU into SNMPv2 form (RFC 3584 3.1): a generic trap
// becomes snmpTraps.(generic+1), an enterprise-specific one enterprise.0.specific.
func (n *notification) fromV1(p *gosnmp.SnmpPacket) error {
	n.enterprise, n.agentAddr = normOID(p.Enterprise), p.AgentAddress
	n.generic, n.specific = p.GenericTrap, p.SpecificTrap
	n.uptime, n.hasUp = uint32(p.Timestamp), true
	switch {
	case p.GenericTrap >= 0 && p.GenericTrap < 6:
		n.trapOID = oidSnmpTraps + "." + strconv.Itoa(p.GenericTrap+1)
	case p.GenericTrap == 6 && n.enterprise != "" && p.SpecificTrap >= 0:
		n.trapOID = n.enterprise + ".0." + strconv.Itoa(p.SpecificTrap)
	default:
		return fmt.Errorf("v1 trap with generic %d, specific %d, enterprise %q", p.GenericTrap, p.SpecificTrap, n.enterprise)
	}
	n.vars = p.Variables
	return nil
}

// normOID writes an OID with one leading dot, as gosnmp and the MIB table do.
func normOID(s string) string {
	if s == "" || s[0] == '.' {
		return s
	}
	return "." + s
}

// toUint64 reads the unsigned integer types gosnmp decodes to.
func toUint64(x any) (uint64, bool) {
	switch v := x.(type) {
	case uint:
		return uint64(v), true
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case int:
		if v >= 0 {
			return uint64(v), true
		}
	case int64:
		if v >= 0 {
			return uint64(v), true
		}
	}
	return 0, false
}

// toInt64 reads the integer types gosnmp decodes to.
func toInt64(x any) (int64, bool) {
	switch v := x.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	if u, ok := toUint64(x); ok && u <= 1<<63-1 {
		return int64(u), true
	}
	return 0, false
}

func (n *notification) kind() string {
	switch {
	case n.inform:
		return "inform"
	case n.version == "1":
		return fmt.Sprintf("trap (generic %d, specific %d)", n.generic, n.specific)
	}
	return "trap"
}

// fmtAny writes a value of a type no case above knows, for the record.
func fmtAny(x any) string { return fmt.Sprint(x) }
