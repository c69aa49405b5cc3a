package poller

import (
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/check"
)

// Thresholds replaces a health item's default ranges. A nil field keeps the profile's
// default; an empty string removes that range (the item never reaches that state).
type Thresholds struct {
	Warn *string `yaml:"warn" json:"warn,omitempty"`
	Crit *string `yaml:"crit" json:"crit,omitempty"`
}

// ParseThresholdFlag reads ID=WARN,CRIT (either may be empty: no range) or ID=WARN (the
// warning range only), the form of --threshold. Ranges are Monitoring Plugins ranges,
// which never contain a comma.
func ParseThresholdFlag(s string) (string, Thresholds, error) {
	id, spec, ok := strings.Cut(s, "=")
	id = strings.TrimSpace(id)
	if !ok || id == "" {
		return "", Thresholds{}, fmt.Errorf("threshold %q: want ID=WARN,CRIT (for example battery=50:,25:)", s)
	}
	warn, crit, both := strings.Cut(spec, ",")
	warn = strings.TrimSpace(warn)
	t := Thresholds{Warn: &warn}
	if both {
		crit = strings.TrimSpace(crit)
		t.Crit = &crit
	}
	if _, err := check.ParseThreshold(warn, crit); err != nil {
		return "", Thresholds{}, fmt.Errorf("threshold %s: %w", id, err)
	}
	return id, t, nil
}

// checkThresholdIDs reports overrides that name no health item of any profile (a typo
// would otherwise be ignored silently).
func checkThresholdIDs(ps Profiles, th map[string]Thresholds) error {
	for id := range th {
		found := false
		for _, p := range ps {
			if _, ok := p.item(id); ok {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("threshold %s: no profile has a health item of that name (items: %s)", id, strings.Join(itemIDs(ps), ", "))
		}
	}
	return nil
}

func itemIDs(ps Profiles) []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range ps.Names() {
		for _, h := range ps[name].Health {
			if !seen[h.ID] {
				seen[h.ID] = true
				out = append(out, h.ID)
			}
		}
	}
	return out
}

// withThresholds returns the item's ranges after the overrides.
func (h *HealthSpec) withThresholds(th map[string]Thresholds) (check.Threshold, string, string, error) {
	warn, crit := h.Warn, h.Crit
	if o, ok := th[h.ID]; ok {
		if o.Warn != nil {
			warn = *o.Warn
		}
		if o.Crit != nil {
			crit = *o.Crit
		}
	}
	t, err := check.ParseThreshold(warn, crit)
	if err != nil {
		return check.Threshold{}, "", "", fmt.Errorf("health item %s: %w", h.ID, err)
	}
	return t, warn, crit, nil
}

// CheckThresholds checks configured overrides before anything is polled: each must name
// a health item of some profile and hold valid ranges. The error names the item.
func CheckThresholds(th map[string]Thresholds) error {
	ps := ShippedProfiles()
	if err := checkThresholdIDs(ps, th); err != nil {
		return err
	}
	for id, t := range th {
		var warn, crit string
		if t.Warn != nil {
			warn = *t.Warn
		}
		if t.Crit != nil {
			crit = *t.Crit
		}
		if _, err := check.ParseThreshold(warn, crit); err != nil {
			return fmt.Errorf("threshold %s: %w", id, err)
		}
	}
	return nil
}
