package snmpagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"
)

const (
	oidSysUpTime   = ".1.3.6.1.2.1.1.3.0"
	oidSnmpTrapOID = ".1.3.6.1.6.3.1.1.4.1.0"
	// defaultNotifyTimeout is net-snmp's default wait for an inform's acknowledgement.
	defaultNotifyTimeout = time.Second
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
	g, err := a.sender(ctx, t)
	if err != nil {
		return err
	}
	if err := g.Connect(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer g.Conn.Close()
	if _, err := g.SendTrap(gosnmp.SnmpTrap{Variables: vbs, IsInform: t.Inform}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
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

// sender is a gosnmp client for one notification, sending from the agent's IP address
// (when it has a specific one) so that the receiver sees the simulated device's address.
func (a *Agent) sender(ctx context.Context, t Target) (*gosnmp.GoSNMP, error) {
	host, portText, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return nil, fmt.Errorf("target address: %w", err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("target port %q: %w", portText, err)
	}
	g := &gosnmp.GoSNMP{
		Target:    host,
		Port:      uint16(port),
		Transport: "udp",
		Version:   t.Version,
		Community: t.Community,
		Timeout:   t.Timeout,
		Retries:   max(t.Retries, 0),
		Context:   ctx,
	}
	if g.Timeout <= 0 {
		g.Timeout = defaultNotifyTimeout
	}
	if ip := a.sourceIP(host); ip != nil {
		g.LocalAddr = net.JoinHostPort(ip.String(), "0")
	}
	switch t.Version {
	case gosnmp.Version2c:
		if t.Community == "" {
			return nil, errors.New("v2c target without a community")
		}
	case gosnmp.Version3:
		if err := a.setV3(g, t); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("notifications are sent as v2c or v3, not %v", t.Version)
	}
	return g, nil
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

// setV3 configures the USM user. For a trap the agent is authoritative; for an inform
// the engine ID is left empty so that gosnmp discovers the receiver's.
func (a *Agent) setV3(g *gosnmp.GoSNMP, t Target) error {
	if t.User == nil || t.User.Name == "" {
		return errors.New("v3 target without a user")
	}
	u := t.User
	if _, err := localize(*u, a.engineID); err != nil { // the same checks as for agent users
		return fmt.Errorf("user %q: %w", u.Name, err)
	}
	sp := &gosnmp.UsmSecurityParameters{
		UserName:                 u.Name,
		AuthenticationProtocol:   gosnmp.NoAuth,
		PrivacyProtocol:          gosnmp.NoPriv,
		AuthenticationPassphrase: u.AuthPass,
		PrivacyPassphrase:        u.PrivPass,
	}
	g.MsgFlags = gosnmp.NoAuthNoPriv
	if u.AuthPass != "" {
		sp.AuthenticationProtocol = u.AuthProto
		g.MsgFlags = gosnmp.AuthNoPriv
	}
	if u.PrivPass != "" {
		sp.PrivacyProtocol = u.PrivProto
		g.MsgFlags = gosnmp.AuthPriv
	}
	if !t.Inform {
		boots, now := a.bootsTime()
		sp.AuthoritativeEngineID = string(a.engineID)
		sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime = boots, now
	}
	g.SecurityModel = gosnmp.UserSecurityModel
	g.SecurityParameters = sp
	return nil
}
