package mib

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed builtin.txt
var builtinText string

// Builtin returns a table holding the built-in entries (builtin.txt).
func Builtin() *Table {
	t := New()
	if err := t.addText("builtin.txt", builtinText); err != nil {
		// builtin.txt is part of the binary and checked by its test.
		panic(err)
	}
	return t
}

// addText reads entries in builtin.txt's format.
func (t *Table) addText(name, text string) error {
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		e, err := parseEntryLine(line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, n+1, err)
		}
		e.Origin = "builtin"
		t.Add(e)
	}
	return nil
}

func parseEntryLine(line string) (*Entry, error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return nil, fmt.Errorf("want OID MODULE::name kind [syntax] [units:UNITS] [enums]: %q", line)
	}
	if !isNumeric(f[0]) {
		return nil, fmt.Errorf("%q is not a numeric OID", f[0])
	}
	mod, name, ok := strings.Cut(f[1], "::")
	if !ok || mod == "" || name == "" {
		return nil, fmt.Errorf("%q is not MODULE::name", f[1])
	}
	e := &Entry{OID: Normalize(f[0]), Module: mod, Name: name}
	kind := -1
	for i, k := range kindNames {
		if k == f[2] {
			kind = i
		}
	}
	if kind < 0 {
		return nil, fmt.Errorf("kind %q: want one of %s", f[2], strings.Join(kindNames[:], ", "))
	}
	e.Kind = Kind(kind)
	rest := f[3:]
	if len(rest) > 0 && strings.Contains(rest[len(rest)-1], "=") {
		enums, err := parseEnums(rest[len(rest)-1])
		if err != nil {
			return nil, err
		}
		e.Enums, rest = enums, rest[:len(rest)-1]
	}
	if len(rest) > 0 && strings.HasPrefix(rest[len(rest)-1], "units:") {
		e.Units, rest = strings.TrimPrefix(rest[len(rest)-1], "units:"), rest[:len(rest)-1]
	}
	e.Syntax = strings.Join(rest, " ")
	e.Base = baseOf(e.Syntax, nil)
	return e, nil
}

func parseEnums(s string) (map[int64]string, error) {
	out := map[int64]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || k == "" || err != nil {
			return nil, fmt.Errorf("enum %q: want name=number", kv)
		}
		out[n] = k
	}
	return out, nil
}
