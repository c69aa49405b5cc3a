package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// writePatternDB converts the shipped catalog into a syslog-ng patterndb file, the way
// someone moving the catalog to syslog-ng would: one ruleset per process a rule names,
// one rule per catalog rule whose longest contains literal (or, for a regex rule, its
// longest literal run) becomes "@ESTRING::literal@@ANYSTRING::@", a message containing
// it. Rules naming no process are added to every ruleset (patterndb picks the ruleset by
// the program name). It is a close equivalent for speed, not for results: regexes,
// fields and levels are not carried over. It returns the number of rules written.
func writePatternDB(path string, c *classify.Catalog) (int, error) {
	byProc := map[string][]*classify.Rule{}
	var unscoped []*classify.Rule
	for _, r := range c.Rules() {
		if literal(r) == "" {
			continue
		}
		if len(r.Match.Process) == 0 {
			unscoped = append(unscoped, r)
			continue
		}
		for _, p := range r.Match.Process {
			byProc[p] = append(byProc[p], r)
		}
	}
	procs := make([]string, 0, len(byProc))
	for p := range byProc {
		procs = append(procs, p)
	}
	sort.Strings(procs)
	var b strings.Builder
	b.WriteString("<?xml version='1.0' encoding='UTF-8'?>\n<patterndb version='4' pub_date='2026-12-07'>\n")
	n := 0
	for i, p := range procs {
		fmt.Fprintf(&b, "  <ruleset name=%s id='rs%d'>\n    <patterns><pattern>%s</pattern></patterns>\n    <rules>\n", attr(p), i, text(p))
		for k, r := range append(byProc[p], unscoped...) {
			fmt.Fprintf(&b, "      <rule provider='hsmwatch' id='r%d-%d' class=%s>\n        <patterns><pattern>@ESTRING::%s@@ANYSTRING::@</pattern></patterns>\n      </rule>\n",
				i, k, attr(r.ID), text(strings.ReplaceAll(literal(r), "@", "@@")))
			n++
		}
		b.WriteString("    </rules>\n  </ruleset>\n")
	}
	b.WriteString("</patterndb>\n")
	return n, os.WriteFile(path, []byte(b.String()), 0o644)
}

// literal is the text a rule's message must contain: its longest contains (or
// contains_any) literal, else the longest run of plain characters in its regex.
func literal(r *classify.Rule) string {
	best := ""
	for _, l := range append(append([]string(nil), r.Match.Contains...), r.Match.ContainsAny...) {
		if len(l) > len(best) {
			best = l
		}
	}
	if best != "" || r.Match.Regex == "" {
		return best
	}
	run := []byte{}
	flush := func() {
		if len(run) > len(best) {
			best = string(run)
		}
		run = run[:0]
	}
	for i := 0; i < len(r.Match.Regex); i++ {
		ch := r.Match.Regex[i]
		switch {
		case ch == '\\' && i+1 < len(r.Match.Regex):
			flush()
			i++
		case strings.IndexByte(".*+?()[]{}|^$", ch) >= 0:
			flush()
		default:
			run = append(run, ch)
		}
	}
	flush()
	if len(best) < 4 {
		return ""
	}
	return best
}

// attr quotes an attribute value (xml.EscapeText escapes the quote too).
func attr(s string) string { return "'" + text(s) + "'" }

func text(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
