// Package notify sends SNMP notifications (v2c and v3 traps and informs) with gosnmp's
// client: the code hsmwatch's simulated agents (internal/snmp/agent) and its trap sink
// (internal/snmp/sender) share.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// DefaultTimeout is net-snmp's default wait for an inform's acknowledgement.
const DefaultTimeout = time.Second

// Target is where a notification goes.
type Target struct {
	Addr      string // host:port
	Version   gosnmp.SnmpVersion
	Community string    // v1/v2c
	User      *usm.User // v3; the sender is the authoritative engine for traps
	Inform    bool      // wait for an acknowledgement, retrying
	Timeout   time.Duration
	Retries   int
}

// Engine is the sending SNMP engine: authoritative for v3 traps, so the receiver must
// know the user under this engine ID (net-snmp: createUser -e ID).
type Engine struct {
	ID          []byte
	Boots, Time uint32
}

// Send sends one notification whose varbinds are vars (sysUpTime.0 and snmpTrapOID.0
// first, RFC 3416 4.2.6). With t.Inform it waits for the acknowledgement, sending
// t.Retries more times after each t.Timeout (1 s when zero); a v3 inform first discovers
// the receiver's engine ID and time (RFC 3414 4). localIP, when not nil, is the address
// to send from.
func Send(ctx context.Context, t Target, eng Engine, localIP net.IP, vars []gosnmp.SnmpPDU) error {
	g, err := Client(ctx, t, eng, localIP)
	if err != nil {
		return err
	}
	if err := g.Connect(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer g.Conn.Close()
	if _, err := g.SendTrap(gosnmp.SnmpTrap{Variables: vars, IsInform: t.Inform}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// Client returns a gosnmp client configured for one notification to t, not connected.
func Client(ctx context.Context, t Target, eng Engine, localIP net.IP) (*gosnmp.GoSNMP, error) {
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
		g.Timeout = DefaultTimeout
	}
	if localIP != nil {
		g.LocalAddr = net.JoinHostPort(localIP.String(), "0")
	}
	switch t.Version {
	case gosnmp.Version2c:
		if t.Community == "" {
			return nil, errors.New("v2c target without a community")
		}
	case gosnmp.Version3:
		if err := setV3(g, t, eng); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("notifications are sent as v2c or v3, not %v", t.Version)
	}
	return g, nil
}

// setV3 configures the USM user. For a trap the sender is authoritative; for an inform
// the engine ID is left empty so that gosnmp discovers the receiver's.
func setV3(g *gosnmp.GoSNMP, t Target, eng Engine) error {
	if t.User == nil || t.User.Name == "" {
		return errors.New("v3 target without a user")
	}
	u := t.User
	if !t.Inform && (len(eng.ID) < 5 || len(eng.ID) > 32) {
		return fmt.Errorf("v3 trap needs the sender's engine ID (5 to 32 bytes), have %d bytes", len(eng.ID))
	}
	checkID := eng.ID
	if len(checkID) == 0 { // an inform's engine is discovered later; any ID checks the user
		checkID = []byte("\x80\x00\x00\x00\x04check")
	}
	if _, err := usm.Localize(*u, checkID); err != nil { // the same checks as for receiving users
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
		sp.AuthoritativeEngineID = string(eng.ID)
		sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime = eng.Boots, eng.Time
	}
	g.SecurityModel = gosnmp.UserSecurityModel
	g.SecurityParameters = sp
	return nil
}
