package api

import (
	"context"
	"regexp"
	"slices"
	"strconv"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// The curated health figures the dashboard shows first, per kind of HSM: which metric
// (the first of Metrics an HSM has), in which unit, with which thresholds. The
// thresholds are the defaults of the poll profiles (internal/snmp/poller/profiles.yaml)
// and of the PKCS#11 probe (internal/source/pkcs11probe/health.go); where the poller
// also stores its verdict (health_state{item=Health}), that verdict, which follows the
// configured thresholds, gives the figure's state.
//
//	GET /api/figures  {"kinds": [...], "words": {metric: {value: word}}}

// Figure is one curated figure of a kind.
type Figure struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Metrics: the first one an HSM has is shown (a derived health figure before the
	// raw object it comes from).
	Metrics []string `json:"metrics"`
	Unit    string   `json:"unit,omitempty"`
	// Warn and Crit: the default thresholds; Below says that low values are bad.
	Warn  *float64 `json:"warn,omitempty"`
	Crit  *float64 `json:"crit,omitempty"`
	Below bool     `json:"below,omitempty"`
	// Health names the poller's health_state item judging this figure.
	Health string `json:"health,omitempty"`
	// Words names the values of a state figure ("1": "up").
	Words map[string]string `json:"words,omitempty"`
	// Max: the figure's natural top (100 for a percentage), for the charts' axes.
	Max *float64 `json:"max,omitempty"`
}

// Kind is a kind of HSM: how to know it by its samples, and its curated figures.
type Kind struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Detect: an HSM with a sample of one of these metrics is of this kind.
	Detect  []string `json:"detect"`
	Figures []Figure `json:"figures"`
}

func num(v float64) *float64 { return &v }

var (
	truthValue  = map[string]string{"1": "true", "2": "false"}
	healthWords = map[string]string{"0": "ok", "1": "warning", "2": "critical", "3": "unknown"}
	ntlsWords   = map[string]string{"1": "up", "2": "not running", "3": "unknown"}
	tamperWords = map[string]string{"0": "untampered"}
)

// figureKinds returns the table, most specific kind first (an HSM is of the first kind
// it matches). A function, not a package variable: the table is data no caller changes.
func figureKinds() []Kind {
	pct := num(100)
	return []Kind{
		{ID: "luna", Label: "Luna Network HSM",
			Detect: []string{"ntlsOperStatus", "health_ntls_status", "hsmStorageTotalBytes", "health_hsm_storage_used"},
			Figures: []Figure{
				{ID: "memory", Label: "Memory used", Metrics: []string{"health_memory_used"}, Unit: "%",
					Warn: num(90), Crit: num(95), Health: "memory_used", Max: pct},
				{ID: "storage", Label: "HSM storage used", Metrics: []string{"health_hsm_storage_used"}, Unit: "%",
					Warn: num(80), Crit: num(90), Health: "hsm_storage_used", Max: pct},
				{ID: "temperature", Label: "Temperature", Metrics: []string{"temperature", "lmTempSensorsValue"}, Unit: "°C"},
				{ID: "ntls_status", Label: "NTLS", Metrics: []string{"health_ntls_status", "ntlsOperStatus"},
					Health: "ntls_status", Words: ntlsWords},
				{ID: "ntls_clients", Label: "NTLS clients", Metrics: []string{"health_ntls_clients", "ntlsConnectedClients"},
					Health: "ntls_clients"},
			}},
		{ID: "dinamo", Label: "Dinamo HSM",
			Detect: []string{"hsmCryptoBattery", "health_battery", "health_tamper", "hsmTamperingState"},
			Figures: []Figure{
				{ID: "memory", Label: "Memory used", Metrics: []string{"health_memory_used"}, Unit: "%",
					Warn: num(90), Crit: num(95), Health: "memory_used", Max: pct},
				{ID: "storage", Label: "Disk used", Metrics: []string{"health_disk_used"}, Unit: "%",
					Warn: num(80), Crit: num(90), Health: "disk_used", Max: pct},
				{ID: "battery", Label: "Tamper battery", Metrics: []string{"health_battery", "hsmCryptoBattery"}, Unit: "%",
					Warn: num(50), Crit: num(25), Below: true, Health: "battery", Max: pct},
				{ID: "temperature", Label: "Temperature", Metrics: []string{"temperature"}, Unit: "°C"},
				{ID: "sessions", Label: "Sessions", Metrics: []string{"health_sessions", "sessionCount"}, Health: "sessions"},
				{ID: "tamper", Label: "Tamper", Metrics: []string{"health_tamper", "hsmTamperingState"},
					Health: "tamper", Words: tamperWords},
			}},
		{ID: "pkcs11", Label: "PKCS#11 token",
			Detect: []string{"pkcs11_token_status", "pkcs11_max_sessions", "pkcs11_sessions"},
			Figures: []Figure{
				{ID: "status", Label: "Token health", Metrics: []string{"pkcs11_token_status"}, Words: healthWords},
				{ID: "private_memory", Label: "Private memory used", Metrics: []string{"pkcs11_private_memory_used_percent"},
					Unit: "%", Warn: num(75), Crit: num(90), Max: pct},
				{ID: "public_memory", Label: "Public memory used", Metrics: []string{"pkcs11_public_memory_used_percent"},
					Unit: "%", Warn: num(75), Crit: num(90), Max: pct},
				{ID: "sessions", Label: "Sessions", Metrics: []string{"pkcs11_sessions"}},
				{ID: "rw_sessions", Label: "Read-write sessions", Metrics: []string{"pkcs11_rw_sessions"}},
			}},
		{ID: "snmp", Label: "SNMP agent",
			Detect: []string{"health_memory_used", "memTotalReal", "sysUpTime"},
			Figures: []Figure{
				{ID: "memory", Label: "Memory used", Metrics: []string{"health_memory_used"}, Unit: "%",
					Warn: num(90), Crit: num(95), Health: "memory_used", Max: pct},
				{ID: "temperature", Label: "Temperature", Metrics: []string{"temperature"}, Unit: "°C"},
				{ID: "sessions", Label: "Sessions", Metrics: []string{"sessionCount"}},
			}},
	}
}

// metricWords names the values of the state and TruthValue objects the polls read, for
// the raw figures.
func metricWords() map[string]map[string]string {
	return map[string]map[string]string{
		"health_state":             healthWords,
		"pkcs11_token_status":      healthWords,
		"ntlsOperStatus":           ntlsWords,
		"health_ntls_status":       ntlsWords,
		"hsmManuallyZeroized":      truthValue,
		"health_manually_zeroized": truthValue,
		"hsmFipsMode":              truthValue,
		"hsmRpvInitialized":        truthValue,
		"hsmAuditRoleInitialized":  truthValue,
		"hsmPartitionActivated":    truthValue,
		"hsmTamperingState":        tamperWords,
		"health_tamper":            tamperWords,
	}
}

// figures answers {"kinds": [...], "words": {...}}.
func (h *handler) figures(context.Context, *params) ([]byte, error) {
	return marshal(struct {
		Kinds []Kind                       `json:"kinds"`
		Words map[string]map[string]string `json:"words"`
	}{figureKinds(), metricWords()})
}

// kindOf names the kind of an HSM by its latest samples ("" when none fits).
func kindOf(kinds []Kind, samples []store.Sample) string {
	for _, k := range kinds {
		for _, s := range samples {
			if slices.Contains(k.Detect, s.Metric) {
				return k.ID
			}
		}
	}
	return ""
}

// slotName is the name the PKCS#11 probe gives a token with neither label nor serial
// (internal/source/pkcs11probe/kind.go, tokenHost): "LIBRARY:slotN".
var slotName = regexp.MustCompile(`:slot[0-9]+$`)

// tokenOf describes a PKCS#11 token by its samples' labels: its library and slot, and
// whether it is an uninitialised slot (no label, no serial) rather than a token in use.
func tokenOf(host string, samples []store.Sample) *tokenView {
	for _, s := range samples {
		lib, ok := s.Labels["library"]
		if !ok {
			continue
		}
		t := &tokenView{Library: lib, Slot: s.Labels["slot"], Serial: s.Labels["serial"]}
		t.Uninitialised = t.Serial == "" && slotName.MatchString(host) &&
			host == lib+":slot"+t.Slot
		if _, err := strconv.Atoi(t.Slot); err != nil {
			t.Slot = ""
		}
		return t
	}
	return nil
}

// tokenView is what /api/hsms says of a PKCS#11 token.
type tokenView struct {
	Library       string `json:"library"`
	Slot          string `json:"slot,omitempty"`
	Serial        string `json:"serial,omitempty"`
	Uninitialised bool   `json:"uninitialised,omitempty"`
}

// hsmView is an HSM as /api/hsms lists it: the store's row, its kind and, for a
// PKCS#11 token, its library and slot.
type hsmView struct {
	store.HSM
	Kind  string     `json:"kind,omitempty"`
	Token *tokenView `json:"token,omitempty"`
}

func viewHSMs(hs []store.HSM) []hsmView {
	kinds := figureKinds()
	out := make([]hsmView, 0, len(hs))
	for _, h := range hs {
		v := hsmView{HSM: h, Kind: kindOf(kinds, h.Samples)}
		if v.Kind == "pkcs11" {
			v.Token = tokenOf(h.Host, h.Samples)
		}
		out = append(out, v)
	}
	return out
}
