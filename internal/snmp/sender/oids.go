package sender

import (
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// oidTable is what the sink sends: each category's notification OID ("" when neither
// the MIB nor the configuration gives one) and ssLogReference's.
type oidTable struct {
	notify map[string]string
	logRef string
}

// resolveOIDs takes each OID from the overrides first, then from the MIB table. A
// category without one is not an error here: Send reports it when an event of that
// category comes, and Missing lists them for a warning at start.
func resolveOIDs(t *mib.Table, overrides map[string]string) (oidTable, error) {
	out := oidTable{notify: map[string]string{}}
	for name, oid := range overrides {
		if !lunatrap.IsCategory(name) && name != lunatrap.LogReference {
			return out, fmt.Errorf("OID override for %q: not one of %s or %s", name,
				strings.Join(lunatrap.Categories(), ", "), lunatrap.LogReference)
		}
		n, ok := t.Resolve(oid)
		if !ok || !numeric(n) {
			return out, fmt.Errorf("OID override for %s: %q is not a numeric OID or a known name", name, oid)
		}
	}
	get := func(name string, kind mib.Kind) string {
		if o, ok := overrides[name]; ok {
			n, _ := t.Resolve(o)
			return n
		}
		n, ok := t.Resolve(lunatrap.Module + "::" + name)
		if !ok {
			return ""
		}
		if e, suffix, ok := t.Lookup(n); !ok || suffix != "" || e.Kind != kind {
			return ""
		}
		return n
	}
	for _, c := range lunatrap.Categories() {
		out.notify[c] = get(c, mib.KindNotification)
	}
	out.logRef = get(lunatrap.LogReference, mib.KindScalar)
	if out.logRef == "" {
		return out, fmt.Errorf("no OID for %s::%s: load the MIB or set it", lunatrap.Module, lunatrap.LogReference)
	}
	return out, nil
}

func numeric(oid string) bool {
	oid = strings.TrimPrefix(oid, ".")
	if oid == "" {
		return false
	}
	for _, part := range strings.Split(oid, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return false
		}
	}
	return true
}
