package poller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// Target is one HSM's SNMP agent and the credentials to ask it. Passphrases and the
// community are secrets: String never shows them, and every error that leaves this
// package has them replaced by "***".
type Target struct {
	// Addr is host, host:port or [v6]:port; the port is 161 when absent.
	Addr string `yaml:"addr"`
	// Name, when set, is the host of the events (else the agent's sysName).
	Name string `yaml:"name"`
	// Version is "2c" or "3"; empty means 3 when User is set, 2c otherwise.
	Version   string `yaml:"version"`
	Community string `yaml:"community"`
	User      string `yaml:"user"`
	// AuthProto: MD5, SHA (default), SHA224, SHA256, SHA384, SHA512. No AuthPass means
	// noAuthNoPriv.
	AuthProto string `yaml:"auth_proto"`
	AuthPass  string `yaml:"auth_pass"`
	// PrivProto: DES, AES (default), AES192, AES256, AES192C, AES256C (the C forms are
	// Cisco's key extension). No PrivPass means authNoPriv.
	PrivProto string `yaml:"priv_proto"`
	PrivPass  string `yaml:"priv_pass"`
	// Context is the SNMPv3 context name.
	Context string `yaml:"context"`
	// Timeout is how long one request waits for its answer, Retries how often it is sent
	// again: one request gives up after Timeout*(Retries+1) (defaults 5s and 1).
	Timeout time.Duration `yaml:"timeout"`
	Retries *int          `yaml:"retries"`
	// MaxRepetitions is GetBulk's max-repetitions (default 25).
	MaxRepetitions uint32 `yaml:"max_repetitions"`
}

// Defaults of a Target.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultRetries        = 1
	DefaultMaxRepetitions = 25
)

// protoKey is how a protocol name is shown in messages ("sha-256" as SHA256).
func protoKey(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
}

func (t *Target) version() string {
	switch {
	case t.Version != "":
		return strings.TrimPrefix(strings.ToLower(t.Version), "v")
	case t.User != "":
		return "3"
	}
	return "2c"
}

func (t *Target) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultTimeout
}

func (t *Target) retries() int {
	if t.Retries != nil && *t.Retries >= 0 {
		return *t.Retries
	}
	return DefaultRetries
}

// hostPort splits Addr, adding port 161.
func (t *Target) hostPort() (string, uint16, error) {
	a := strings.TrimSpace(t.Addr)
	if a == "" {
		return "", 0, errors.New("no address")
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		// no port: a host name, an IPv4 address, or a bare or bracketed IPv6 address
		host, port = strings.TrimSuffix(strings.TrimPrefix(a, "["), "]"), "161"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 || host == "" {
		return "", 0, fmt.Errorf("address %q: want HOST or HOST:PORT", t.Addr)
	}
	return host, uint16(p), nil
}

// Validate checks the target without sending anything.
func (t *Target) Validate() error {
	if _, _, err := t.hostPort(); err != nil {
		return err
	}
	switch t.version() {
	case "2c", "2", "1":
	case "3":
		if t.User == "" {
			return errors.New("SNMPv3 needs a user (--user)")
		}
		if t.AuthPass == "" && t.PrivPass != "" {
			return fmt.Errorf("user %s: a privacy passphrase needs an authentication passphrase", t.User)
		}
		if t.AuthPass != "" {
			if _, err := usm.AuthProtocol(t.authName()); err != nil {
				return err
			}
			if len(t.AuthPass) < 8 {
				return fmt.Errorf("user %s: the authentication passphrase has fewer than 8 characters (RFC 3414 keys need 8)", t.User)
			}
		}
		if t.PrivPass != "" {
			if _, err := usm.PrivProtocol(t.privName()); err != nil {
				return err
			}
			if len(t.PrivPass) < 8 {
				return fmt.Errorf("user %s: the privacy passphrase has fewer than 8 characters", t.User)
			}
		}
	default:
		return fmt.Errorf("SNMP version %q: use 2c or 3", t.Version)
	}
	return nil
}

// level is the SNMPv3 security level.
func (t *Target) level() string {
	switch {
	case t.AuthPass == "":
		return "noAuthNoPriv"
	case t.PrivPass == "":
		return "authNoPriv"
	}
	return "authPriv"
}

func (t *Target) authName() string {
	if t.AuthProto == "" {
		return "SHA"
	}
	return protoKey(t.AuthProto)
}

func (t *Target) privName() string {
	if t.PrivProto == "" {
		return "AES"
	}
	return protoKey(t.PrivProto)
}

// String describes the target without any secret: "127.0.0.1:161 v3 user ops authPriv
// SHA/AES".
func (t Target) String() string {
	host, port, err := t.hostPort()
	addr := t.Addr
	if err == nil {
		addr = net.JoinHostPort(host, strconv.Itoa(int(port)))
	}
	if t.version() != "3" {
		return addr + " v2c"
	}
	s := addr + " v3 user " + t.User + " " + t.level()
	switch t.level() {
	case "authNoPriv":
		s += " " + t.authName()
	case "authPriv":
		s += " " + t.authName() + "/" + t.privName()
	}
	return s
}

// address is host:port, for messages.
func (t *Target) address() string {
	host, port, err := t.hostPort()
	if err != nil {
		return t.Addr
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// client builds an unconnected gosnmp client for the target.
func (t *Target) client() (*gosnmp.GoSNMP, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	host, port, _ := t.hostPort()
	reps := t.MaxRepetitions
	if reps == 0 {
		reps = DefaultMaxRepetitions
	}
	c := &gosnmp.GoSNMP{
		Target:         host,
		Port:           port,
		Transport:      "udp",
		Timeout:        t.timeout(),
		Retries:        t.retries(),
		MaxOids:        gosnmp.MaxOids,
		MaxRepetitions: reps,
		Context:        context.Background(),
	}
	if t.version() != "3" {
		c.Version = gosnmp.Version2c
		c.Community = t.Community
		return c, nil
	}
	c.Version = gosnmp.Version3
	c.SecurityModel = gosnmp.UserSecurityModel
	c.ContextName = t.Context
	sp := &gosnmp.UsmSecurityParameters{UserName: t.User, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	c.MsgFlags = gosnmp.NoAuthNoPriv
	if t.AuthPass != "" {
		p, err := usm.AuthProtocol(t.authName())
		if err != nil {
			return c, err
		}
		c.MsgFlags = gosnmp.AuthNoPriv
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = p, t.AuthPass
	}
	if t.PrivPass != "" {
		p, err := usm.PrivProtocol(t.privName())
		if err != nil {
			return c, err
		}
		c.MsgFlags = gosnmp.AuthPriv
		sp.PrivacyProtocol, sp.PrivacyPassphrase = p, t.PrivPass
	}
	c.SecurityParameters = sp
	return c, nil
}

// ErrorKind says why a poll got no usable answer.
type ErrorKind string

// The error kinds.
const (
	ErrNoAnswer ErrorKind = "no-answer" // timeout: nothing came back
	ErrRefused  ErrorKind = "refused"   // ICMP port unreachable: nothing listens there
	ErrAuth     ErrorKind = "auth"      // SNMPv3 user, digest, decryption or level refused
	ErrConfig   ErrorKind = "config"    // the target's settings are wrong
	ErrAgent    ErrorKind = "agent"     // the agent answered with an error
	ErrOther    ErrorKind = "other"
)

// Error is a poll that failed, with what the operator should check. Its message never
// holds a secret of the target.
type Error struct {
	Addr string
	Kind ErrorKind
	msg  string
	err  error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause (gosnmp's error, the context's).
func (e *Error) Unwrap() error { return e.err }

// pollError turns a gosnmp or network error into an Error naming the HSM's address and
// what to check; no part of it holds a secret.
func (t *Target) pollError(during string, err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	addr := t.address()
	kind, hint := ErrOther, ""
	var ae agentError
	user := t.User
	switch {
	case errors.Is(err, gosnmp.ErrWrongDigest):
		kind, hint = ErrAuth, fmt.Sprintf("SNMPv3 authentication failed (wrong digest): check the authentication protocol (%s) and passphrase of user %s", t.authName(), user)
	case errors.Is(err, gosnmp.ErrDecryption):
		kind, hint = ErrAuth, fmt.Sprintf("SNMPv3 decryption failed: check the privacy protocol (%s) and passphrase of user %s", t.privName(), user)
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		kind, hint = ErrAuth, fmt.Sprintf("the agent knows no SNMPv3 user %s: check the user name", user)
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		kind, hint = ErrAuth, fmt.Sprintf("the agent refuses security level %s for user %s: check whether the user has authentication and privacy keys", t.level(), user)
	case strings.Contains(err.Error(), "not authentic"):
		// gosnmp drops an answer whose digest does not verify with our key: the agent's
		// report of a wrong digest, an unknown user or a failed decryption is sent
		// unauthenticated, so all three end here.
		kind, hint = ErrAuth, fmt.Sprintf("the agent's answer does not authenticate with our key: check the SNMPv3 user name (%s), its authentication protocol (%s) and passphrase", user, t.authName())
		if t.PrivPass != "" {
			hint += fmt.Sprintf(", and its privacy protocol (%s) and passphrase", t.privName())
		}
	case errors.As(err, &ae) && ae.status == gosnmp.AuthorizationError:
		kind, hint = ErrAuth, fmt.Sprintf("the agent refuses the request (authorizationError): the security level (%s) or the view of user %s does not allow reading it", t.level(), user)
	case errors.As(err, &ae):
		kind, hint = ErrAgent, fmt.Sprintf("the agent answered with error %s", ae.status)
	case errors.Is(err, gosnmp.ErrUnknownEngineID), errors.Is(err, gosnmp.ErrNotInTimeWindow):
		kind, hint = ErrAuth, "SNMPv3 engine discovery failed: the agent's engine ID or time could not be learned"
	case errors.Is(err, syscall.ECONNREFUSED):
		kind, hint = ErrRefused, "nothing listens there (ICMP port unreachable): check the address, the port and that SNMP is enabled on the HSM"
	case errors.Is(err, context.Canceled):
		kind, hint = ErrOther, "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		// the caller's deadline, which gosnmp applies to its socket reads
		kind, hint = ErrNoAnswer, "the time allowed for the poll ran out before the agent answered"
	case isTimeout(err):
		kind = ErrNoAnswer
		hint = fmt.Sprintf("no answer within %s x %d tries: check the address and port, that SNMP is enabled on the HSM, ",
			t.timeout(), t.retries()+1)
		if t.version() == "3" {
			hint += fmt.Sprintf("the SNMPv3 user %s and its keys (a wrong privacy key may be dropped silently), ", user)
		} else {
			hint += "the community (an agent does not answer a wrong community), "
		}
		hint += "and firewalls"
	}
	msg := fmt.Sprintf("%s: %s", addr, during)
	if hint != "" {
		msg += ": " + hint
	}
	if kind == ErrOther || kind == ErrRefused {
		msg += " (" + err.Error() + ")"
	}
	// The message is built from the address, the user name and protocol names and the
	// library's error, none of which holds a secret (gosnmp never quotes a community or
	// a passphrase): nothing is searched for a secret's text and rewritten.
	return &Error{Addr: addr, Kind: kind, msg: msg, err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || strings.Contains(err.Error(), "timeout")
}
