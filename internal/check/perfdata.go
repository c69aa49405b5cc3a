package check

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Perfdata is one performance data item: 'label'=value[UOM];[warn];[crit];[min];[max].
type Perfdata struct {
	Label string
	Value float64
	// UOM is the unit: "" (a number), s, ms, us, %, B, KB, MB, GB, TB, or c (a counter).
	UOM        string
	Warn, Crit *Range
	Min, Max   *float64
}

// Float returns a pointer to v, for Perfdata.Min and Max.
func Float(v float64) *float64 { return &v }

var uoms = map[string]bool{"": true, "s": true, "ms": true, "us": true, "%": true,
	"B": true, "KB": true, "MB": true, "GB": true, "TB": true, "c": true}

// Validate reports what would make the item unreadable to Nagios or Icinga: an empty label,
// a label with '=', '|' or a line break, an unknown unit, a value that is not finite.
func (p Perfdata) Validate() error {
	var errs []error
	switch {
	case p.Label == "":
		errs = append(errs, errors.New("empty label"))
	case strings.ContainsAny(p.Label, "=|\r\n"):
		errs = append(errs, fmt.Errorf("label %q: '=', '|' and line breaks are not allowed", p.Label))
	}
	if !uoms[p.UOM] {
		errs = append(errs, fmt.Errorf("label %q: unit %q: use s, ms, us, %%, B, KB, MB, GB, TB, c or none", p.Label, p.UOM))
	}
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
		errs = append(errs, fmt.Errorf("label %q: value %v is not a number", p.Label, p.Value))
	}
	return errors.Join(errs...)
}

// String writes the item. The label is quoted with single quotes when it holds a space or a
// quote (a quote inside is doubled); empty trailing fields are left out.
func (p Perfdata) String() string {
	var b strings.Builder
	b.WriteString(quoteLabel(p.Label))
	b.WriteByte('=')
	b.WriteString(formatFloat(p.Value))
	b.WriteString(p.UOM)
	fields := []string{"", "", "", ""}
	if p.Warn != nil {
		fields[0] = p.Warn.String()
	}
	if p.Crit != nil {
		fields[1] = p.Crit.String()
	}
	if p.Min != nil {
		fields[2] = formatFloat(*p.Min)
	}
	if p.Max != nil {
		fields[3] = formatFloat(*p.Max)
	}
	n := len(fields)
	for n > 0 && fields[n-1] == "" {
		n--
	}
	for _, f := range fields[:n] {
		b.WriteByte(';')
		b.WriteString(f)
	}
	return b.String()
}

func quoteLabel(l string) string {
	if !strings.ContainsAny(l, " \t'") {
		return l
	}
	return "'" + strings.ReplaceAll(l, "'", "''") + "'"
}
