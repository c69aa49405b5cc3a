package poller

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/check"
)

// Profiles are data (profiles.yaml, embedded): which objects and tables a kind of HSM is
// asked for, by MIB name, and which health items are derived from them with which
// default thresholds. Code only knows how to compute a kind of item (value, ratio, rate).

//go:embed profiles.yaml
var profilesYAML []byte

// Profile names.
const (
	ProfileLunaNetwork  = "luna-network"
	ProfileLunaPCIeHost = "luna-pcie-host"
	ProfileDinamo       = "dinamo"
	ProfileGeneric      = "generic"
)

// Profile is one kind of HSM.
type Profile struct {
	Name        string       `yaml:"-"`
	Description string       `yaml:"description"`
	Interval    Duration     `yaml:"interval"`
	Root        string       `yaml:"root"`
	NeedsMIB    string       `yaml:"needs_mib"`
	Scalars     []string     `yaml:"scalars"`
	Tables      []string     `yaml:"tables"`
	Uptime      []string     `yaml:"uptime"`
	Identity    []Labelled   `yaml:"identity"`
	Views       []ViewSpec   `yaml:"views"`
	Health      []HealthSpec `yaml:"health"`
}

// Labelled is an object shown under a label.
type Labelled struct {
	Label  string `yaml:"label"`
	Object string `yaml:"object"`
}

// ViewSpec is a table shown as it is.
type ViewSpec struct {
	Title   string     `yaml:"title"`
	Table   string     `yaml:"table"`
	Columns []Labelled `yaml:"columns"`
}

// The ways a health item is computed.
const (
	ComputeValue     = "value"
	ComputeRatio     = "ratio"
	ComputeFreeRatio = "free_ratio"
	ComputeRate      = "rate"
	ComputeGrowth    = "growth"
)

// HealthSpec is one health item of a profile.
type HealthSpec struct {
	ID       string   `yaml:"id"`
	Title    string   `yaml:"title"`
	Unit     string   `yaml:"unit"`
	Compute  string   `yaml:"compute"`
	Value    string   `yaml:"value"`
	Total    string   `yaml:"total"`
	Free     []string `yaml:"free"`
	Label    string   `yaml:"label"`
	Warn     string   `yaml:"warn"`
	Crit     string   `yaml:"crit"`
	Storage  bool     `yaml:"storage"`
	Optional bool     `yaml:"optional"`
}

// objects returns every object the item reads.
func (h *HealthSpec) objects() []string {
	var out []string
	for _, o := range append([]string{h.Value, h.Total, h.Label}, h.Free...) {
		if o != "" {
			out = append(out, o)
		}
	}
	return out
}

// Duration is a time.Duration written as "60s" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a positive duration (30s, 1m)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Profiles is a set of profiles by name.
type Profiles map[string]*Profile

// ShippedProfiles returns the profiles built into hsmwatch, checked. A fresh copy each
// call: callers may change theirs.
func ShippedProfiles() Profiles {
	p, err := ParseProfiles(profilesYAML)
	if err != nil {
		// profiles.yaml is part of the binary and checked by its test.
		panic(err)
	}
	return p
}

// ParseProfiles reads profiles in the format of profiles.yaml; unknown fields are errors.
func ParseProfiles(data []byte) (Profiles, error) {
	var doc struct {
		Profiles map[string]*Profile `yaml:"profiles"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	if len(doc.Profiles) == 0 {
		return nil, fmt.Errorf("profiles: none defined")
	}
	for name, p := range doc.Profiles {
		p.Name = name
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("profile %s: %w", name, err)
		}
	}
	return doc.Profiles, nil
}

// Names returns the profile names, sorted.
func (ps Profiles) Names() []string {
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// validate checks what can be checked without a MIB: every object an item, the
// identity or a view reads is polled, every item is computable and its thresholds parse.
func (p *Profile) validate() error {
	if p.Interval <= 0 {
		return fmt.Errorf("no interval")
	}
	polled := map[string]bool{}
	for _, s := range p.Scalars {
		polled[s] = true
	}
	inTable := func(obj string) bool {
		// A column's table is known only with a MIB; a profile names the table's module,
		// so a column of the same module is accepted here and checked when resolved.
		mod, _, ok := strings.Cut(obj, "::")
		for _, t := range p.Tables {
			if tm, _, _ := strings.Cut(t, "::"); ok && tm == mod {
				return true
			}
		}
		return false
	}
	known := func(obj string) bool { return polled[obj] || inTable(obj) }
	for _, u := range p.Uptime {
		if !known(u) {
			return fmt.Errorf("uptime object %s is not polled (scalars or tables)", u)
		}
	}
	for _, l := range p.Identity {
		if l.Label == "" || !known(l.Object) {
			return fmt.Errorf("identity %q: object %s is not polled", l.Label, l.Object)
		}
	}
	for _, v := range p.Views {
		if !slices.Contains(p.Tables, v.Table) {
			return fmt.Errorf("view %q: table %s is not walked", v.Title, v.Table)
		}
		for _, c := range v.Columns {
			if !inTable(c.Object) {
				return fmt.Errorf("view %q: column %s is not in a walked table", v.Title, c.Object)
			}
		}
	}
	ids := map[string]bool{}
	for i := range p.Health {
		h := &p.Health[i]
		switch {
		case h.ID == "" || strings.ContainsAny(h.ID, " :=,"):
			return fmt.Errorf("health item %d: id %q (no spaces, ':', '=' or ',')", i+1, h.ID)
		case ids[h.ID]:
			return fmt.Errorf("health item %s: defined twice", h.ID)
		case h.Title == "":
			return fmt.Errorf("health item %s: no title", h.ID)
		}
		ids[h.ID] = true
		switch h.Compute {
		case ComputeValue, ComputeRate, ComputeGrowth:
			if h.Value == "" || h.Total != "" || len(h.Free) > 0 {
				return fmt.Errorf("health item %s: %s takes value only", h.ID, h.Compute)
			}
		case ComputeRatio:
			if h.Value == "" || h.Total == "" || len(h.Free) > 0 {
				return fmt.Errorf("health item %s: ratio takes value and total", h.ID)
			}
		case ComputeFreeRatio:
			if h.Value != "" || h.Total == "" || len(h.Free) == 0 {
				return fmt.Errorf("health item %s: free_ratio takes free and total", h.ID)
			}
		default:
			return fmt.Errorf("health item %s: compute %q (value, ratio, free_ratio, rate, growth)", h.ID, h.Compute)
		}
		for _, o := range h.objects() {
			if !known(o) {
				return fmt.Errorf("health item %s: object %s is not polled", h.ID, o)
			}
		}
		if _, err := check.ParseThreshold(h.Warn, h.Crit); err != nil {
			return fmt.Errorf("health item %s: %w", h.ID, err)
		}
	}
	return nil
}

// item returns the health spec with id.
func (p *Profile) item(id string) (*HealthSpec, bool) {
	for i := range p.Health {
		if p.Health[i].ID == id {
			return &p.Health[i], true
		}
	}
	return nil, false
}
