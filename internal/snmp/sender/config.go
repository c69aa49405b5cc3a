package sender

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
)

// DeAsserts says which de-asserts (clears) are sent.
type DeAsserts uint8

// De-assert policies.
const (
	// DeAssertsAll sends every de-assert, so that the NMS can clear what it raised. The
	// default: hsmwatch knows the de-asserts of every category.
	DeAssertsAll DeAsserts = iota
	// DeAssertsLsta sends what the appliance's own trap agent sends, as we read the
	// guide's chapter 6: caveat 4 says "only IPMI events (i.e., sensors) support both
	// assert and de-assert events", so de-asserts of the fan, power supply and
	// motherboard categories are sent (ssLogReference ending in 0) and the disk drive,
	// NTLS and crypto categories send asserts only. (The per-category conditions speak of
	// thresholds "that represent an assert condition", which would drop threshold
	// de-asserts too; caveat 4 and the 1|0 flag of ssLogReference only make sense if some
	// de-asserts are sent. Use DeAssertsNone for the strictest reading.)
	DeAssertsLsta
	// DeAssertsNone sends asserts only.
	DeAssertsNone
)

// ParseDeAsserts reads all, lsta or none.
func ParseDeAsserts(s string) (DeAsserts, error) {
	switch strings.ToLower(s) {
	case "all", "":
		return DeAssertsAll, nil
	case "lsta":
		return DeAssertsLsta, nil
	case "none":
		return DeAssertsNone, nil
	}
	return 0, fmt.Errorf("de-asserts %q: use all, lsta or none", s)
}

func (d DeAsserts) String() string {
	switch d {
	case DeAssertsLsta:
		return "lsta"
	case DeAssertsNone:
		return "none"
	}
	return "all"
}

// Config describes a trap sink.
type Config struct {
	// Targets receive every notification (v2c or v3; traps or informs with retries).
	Targets []notify.Target
	// EngineID is this sender's SNMPv3 engine ID, authoritative for v3 traps (the NMS
	// configures its users under it: net-snmp's createUser -e); when nil one is derived
	// from the host name. EngineBoots is its boot counter; 0 takes the seconds since
	// 2024, which grow across restarts.
	EngineID    []byte
	EngineBoots uint32
	// MIB gives the OIDs of the notifications and of ssLogReference; nil is
	// mib.Builtin(), which has only the public ones (fan, disk drive, NTLS).
	MIB *mib.Table
	// OIDs override or complete the table: a notification name (fanAttentionNotify,
	// ...) or "ssLogReference" to a numeric OID.
	OIDs map[string]string
	// DeAsserts selects which clears are sent (default all).
	DeAsserts DeAsserts
	// Rate limits notifications per category (per second, token bucket of Burst);
	// 0 is no limit. What the limit drops is counted.
	Rate  float64
	Burst int
	// ApplianceIP is the ip of ssLogReference's host:ip for events that carry none
	// (fields.log_ip); default 0.0.0.0, which says "unknown".
	ApplianceIP string
	// Logger receives send failures, at most one line per target per minute.
	Logger *slog.Logger
	// Now is the clock of the rate limit and of sysUpTime (default time.Now).
	Now func() time.Time
}
