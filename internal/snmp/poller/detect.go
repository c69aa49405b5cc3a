package poller

import (
	"context"
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// Detection asks the agent what it serves, never what it claims to be: sysObjectID is no
// help (a Luna appliance answers with net-snmp's generic Linux OID, and so does the host
// of a PCIe HSM), so the probes are the objects each profile needs:
//
//	luna-network    CHRYSALIS-UTSP-MIB::ntlsOperStatus.0 answers (only the appliance runs NTLS)
//	luna-pcie-host  SAFENET-HSM-MIB::hsmTable has a row, without NTLS (luna-snmp on a host)
//	dinamo          something answers under enterprise 41054 (Dinamo Networks' IANA number)
//	generic         none of these
//
// Two requests: a Get of ntlsOperStatus.0 with the system group, then one GetNext with
// two variables, one at the start of hsmEntry and one at the enterprise 41054.
const (
	dinamoEnterprise = ".1.3.6.1.4.1.41054"
	ntlsOperStatus   = "CHRYSALIS-UTSP-MIB::ntlsOperStatus"
	hsmEntry         = "SAFENET-HSM-MIB::hsmEntry"
)

// Detection says which profile an agent gets and why.
type Detection struct {
	Profile string `json:"profile"`
	Reason  string `json:"reason"`
	// SysObjectID and SysDescr are what the agent says it is, for the record.
	SysObjectID string `json:"sys_object_id,omitempty"`
	SysDescr    string `json:"sys_descr,omitempty"`
}

func detect(ctx context.Context, c *gosnmp.GoSNMP, t *mib.Table) (Detection, error) {
	c.Context = ctx
	ntls, ok := t.Resolve(ntlsOperStatus + ".0")
	if !ok {
		return Detection{}, fmt.Errorf("detect: %s is not in the MIB table", ntlsOperStatus)
	}
	entry, ok := t.Resolve(hsmEntry)
	if !ok {
		return Detection{}, fmt.Errorf("detect: %s is not in the MIB table", hsmEntry)
	}
	const sysDescr, sysObjectID = ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0"
	pkt, err := c.Get([]string{ntls, sysObjectID, sysDescr})
	if err != nil {
		return Detection{}, fmt.Errorf("detect: get %s: %w", t.Name(ntls), err)
	}
	if pkt.Error != gosnmp.NoError {
		return Detection{}, agentError{op: "detect: get", status: pkt.Error, index: pkt.ErrorIndex}
	}
	var d Detection
	ntlsAnswers := false
	for _, v := range pkt.Variables {
		val, present := toValue(v)
		switch mib.Normalize(v.Name) {
		case ntls:
			ntlsAnswers = present
		case sysObjectID:
			d.SysObjectID = val.str
		case sysDescr:
			d.SysDescr = val.str
		}
	}
	if ntlsAnswers {
		d.Profile, d.Reason = ProfileLunaNetwork, t.Name(ntls)+" answers (NTLS runs only on the appliance)"
		return d, nil
	}
	pkt, err = c.GetNext([]string{entry, dinamoEnterprise})
	if err != nil {
		return d, fmt.Errorf("detect: getnext %s and %s: %w", t.Name(entry), dinamoEnterprise, err)
	}
	if pkt.Error != gosnmp.NoError {
		return d, agentError{op: "detect: getnext", status: pkt.Error, index: pkt.ErrorIndex}
	}
	var hsmRow, dinamo string
	for i, v := range pkt.Variables {
		if _, present := toValue(v); !present {
			continue
		}
		name := mib.Normalize(v.Name)
		switch {
		case i == 0 && strings.HasPrefix(name, entry+"."):
			hsmRow = name
		case i == 1 && strings.HasPrefix(name, dinamoEnterprise+"."):
			dinamo = name
		}
	}
	switch {
	case hsmRow != "":
		d.Profile, d.Reason = ProfileLunaPCIeHost, "SAFENET-HSM-MIB::hsmTable has a row ("+t.Name(hsmRow)+") and NTLS does not answer"
	case dinamo != "":
		d.Profile, d.Reason = ProfileDinamo, "the agent serves objects under enterprise 41054 (Dinamo Networks): "+t.Name(dinamo)
	default:
		d.Profile, d.Reason = ProfileGeneric, "no NTLS, no hsmTable, nothing under enterprise 41054"
	}
	return d, nil
}
