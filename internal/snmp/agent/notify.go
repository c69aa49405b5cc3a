package agent

import (
	"context"
	"fmt"
	"net"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
)

const (
	oidSysUpTime   = ".1.3.6.1.2.1.1.3.0"
	oidSnmpTrapOID = ".1.3.6.1.6.3.1.1.4.1.0"
)

// Notify sends one notification to t: sysUpTime.0 (from the Tree when it has it),
// snmpTrapOID.0 = trapOID, then vars. With t.Inform it waits for the acknowledgement,
// sending t.Retries more times after each t.Timeout (1 s when zero).
//
// An SNMPv3 trap is sent with the agent as the authoritative engine (its engine ID,
// boots and time), so the receiver must know the user under this engine ID. An SNMPv3
// inform first discovers the receiver's engine ID and time (RFC 3414 4), and the
// receiver's own user is used.
func (a *Agent) Notify(ctx context.Context, t Target, trapOID string, vars []Var) error {
	err := a.notify(ctx, t, trapOID, vars)
	if err != nil {
		a.count.notificationErrors.Add(1)
		return fmt.Errorf("snmpagent: notify %s: %w", t.Addr, err)
	}
	a.count.notifications.Add(1)
	return nil
}

func (a *Agent) notify(ctx context.Context, t Target, trapOID string, vars []Var) error {
	vbs, err := a.notificationVars(trapOID, vars)
	if err != nil {
		return err
	}
	boots, now := a.bootsTime()
	host, _, _ := net.SplitHostPort(t.Addr)
	return notify.Send(ctx, t, notify.Engine{ID: a.engineID, Boots: boots, Time: now}, a.sourceIP(host), vbs)
}

// notificationVars builds the varbinds of an SNMPv2 notification (RFC 3416 4.2.6).
func (a *Agent) notificationVars(trapOID string, vars []Var) ([]Var, error) {
	if _, _, ok := parseOID(trapOID); !ok {
		return nil, fmt.Errorf("trap OID %q is not a numeric OID", trapOID)
	}
	up := a.uptimeTicks()
	if v, ok := a.tree.Get(oidSysUpTime); ok {
		if v, ok = encodable(v); ok && v.Type == gosnmp.TimeTicks {
			up = v.Value.(uint32)
		}
	}
	out := make([]Var, 0, len(vars)+2)
	out = append(out,
		Var{Name: oidSysUpTime, Type: gosnmp.TimeTicks, Value: up},
		Var{Name: oidSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: trapOID})
	for _, v := range vars {
		ev, ok := encodable(v)
		if !ok {
			return nil, fmt.Errorf("variable %s: value %T cannot be sent as %v", v.Name, v.Value, v.Type)
		}
		if _, _, ok := parseOID(v.Name); !ok {
			return nil, fmt.Errorf("variable name %q is not a numeric OID", v.Name)
		}
		out = append(out, ev)
	}
	return out, nil
}

// sourceIP is the address to send from: the agent's own when it listens on a specific
// one, except a loopback address towards a host that is not (the packet could not
// leave the machine). nil lets the system choose.
func (a *Agent) sourceIP(targetHost string) net.IP {
	u, ok := a.conn.LocalAddr().(*net.UDPAddr)
	if !ok || u.IP.IsUnspecified() {
		return nil
	}
	if u.IP.IsLoopback() && !isLoopbackHost(targetHost) {
		return nil
	}
	return u.IP
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}
