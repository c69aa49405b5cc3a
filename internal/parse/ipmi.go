package parse

import (
	"strconv"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// decodeIPMIReading reads the reading part of an IPMI threshold event (the guide's
// "Threshold Events"):
//
//	Fan sensor Fan3B . Lower Critical going low (Reading 1600 < Threshold 2000 RPM)
//	Voltage sensor VBAT . Lower Critical going low (Reading 1.63 .lt Threshold 2.80 Volts)
//
// into fields.reading, fields.comparison ("<" or ">"; a trap test writes ".lt" and ".gt"
// because lunash forbids the characters), fields.threshold_value and fields.unit. Which
// sensor and threshold it is, and whether it asserts, is the rule catalog's business.
func decodeIPMIReading(ev *event.Event) bool {
	m := ev.Message
	k := strings.Index(m, "(Reading ")
	if k < 0 {
		return false
	}
	i := k + len("(Reading ")
	reading, i, ok := numberAt(m, i)
	if !ok {
		return false
	}
	op, i, ok := comparisonAt(m, skipSpaces(m, i))
	if !ok {
		return false
	}
	i = skipSpaces(m, i)
	if !strings.HasPrefix(m[i:], "Threshold") {
		return false
	}
	threshold, i, ok := numberAt(m, skipSpaces(m, i+len("Threshold")))
	if !ok {
		return false
	}
	i = skipSpaces(m, i)
	end := strings.IndexByte(m[i:], ')')
	if end < 0 {
		end = len(m) - i
	}
	ev.Fields.SetFloat("reading", reading)
	ev.Fields.SetString("comparison", op)
	ev.Fields.SetFloat("threshold_value", threshold)
	if unit := strings.TrimSpace(m[i : i+end]); unit != "" {
		ev.Fields.SetString("unit", unit)
	}
	return true
}

func comparisonAt(m string, i int) (string, int, bool) {
	switch {
	case strings.HasPrefix(m[i:], ".lt"):
		return "<", i + 3, true
	case strings.HasPrefix(m[i:], ".gt"):
		return ">", i + 3, true
	case strings.HasPrefix(m[i:], "<"):
		return "<", i + 1, true
	case strings.HasPrefix(m[i:], ">"):
		return ">", i + 1, true
	}
	return "", i, false
}

// numberAt reads a decimal number such as 2000, -40, 1.63 at i.
func numberAt(s string, i int) (float64, int, bool) {
	j := i
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	start := j
	for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
		j++
	}
	if j == start {
		return 0, i, false
	}
	v, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil {
		return 0, i, false
	}
	return v, j, true
}
