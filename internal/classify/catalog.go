package classify

import (
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Catalog is a loaded, indexed rule set. It is safe for concurrent use.
type Catalog struct {
	rules []*Rule
	// all is rules followed by the floor's rows of anywhere words: the indexes below
	// point into it.
	all  []*Rule
	byID map[string]*Rule

	// Literal rules (contains) by their longest literal: one small automaton per process
	// that a literal rule names, holding only that process's rules, so that its table
	// stays in cache; unscoped holds the rules naming no process (by source or none),
	// walked as well for events of a source such a rule names.
	byProcessIx map[string]*literalIndex
	unscoped    *literalIndex
	// global holds only the anchors of literal rules without a process or source scope
	// (the safety nets): events that no scoped rule can match, most of a syslog server's
	// noise, walk this small automaton instead of the whole one.
	global  *literalIndex
	byField map[string]map[string][]int32 // rules with fields but no literal: field -> value
	// fieldKeys are byField's entries in a slice: Match walks them for every event, and
	// walking a slice costs a fraction of iterating a map.
	fieldKeys []fieldIndex
	byProcess map[string][]int32 // the rest, by lower-case process
	anyEvent  []int32            // the rest without a process: checked for every event

	// Which events can match a literal rule at all: those of a source in scanSources
	// (rules without a process constraint) or of a process in byProcessIx. Other events
	// (most of a syslog server's noise) skip the automaton.
	scanAll     bool
	scanSources map[string]bool

	floor *floorTable // for events no rule matches, and to raise catch-alls (Rule.Floor)

	scratch sync.Pool
}

type fieldIndex struct {
	key    string
	values map[string][]int32
}

// scratch is per-call state: which rules were already considered for this event.
type scratch struct {
	seen     []uint32
	gen      uint32
	buf      []byte
	deferred []int32 // low-priority rules the scan found, considered last
	troubles []*Rule // the floor's rows of anywhere words the scan found
	lower    []byte  // the message and the process in lower case, for the rows' with (troubleScan)
	// cand and loc are the submatch indices of the rule last matched and of the best so
	// far: the regex that chose a rule also gives its fields, so that it runs once.
	cand, loc []int
}

// newCatalog indexes rules; floor holds the rules of the severity floor (FloorEntry.rule),
// none for a catalog without a floor.
func newCatalog(rules []*Rule, floor []*Rule) (*Catalog, error) {
	c := &Catalog{rules: rules, byID: map[string]*Rule{}, byField: map[string]map[string][]int32{},
		byProcess: map[string][]int32{}, scanSources: map[string]bool{}}
	c.all = rules[:len(rules):len(rules)]
	if len(floor) > 0 {
		c.floor = newFloorTable(floor)
		for _, r := range floor {
			c.byID[r.ID] = r
			if len(r.floorEntry.Anywhere) > 0 {
				c.all = append(c.all, r)
			}
		}
	}
	var anchors, globalAnchors []string
	var anchored, globalAnchored []int32
	procAnchors := map[string][]string{}
	procAnchored := map[string][]int32{}
	for i, r := range c.all {
		c.byID[r.ID] = r
		idx := int32(i)
		switch {
		case len(r.Match.Contains) > 0 || len(r.Match.ContainsAny) > 0:
			lits := [][]string{r.Match.Contains}
			if len(r.Match.Contains) == 0 {
				lits = lits[:0]
				for _, lit := range r.Match.ContainsAny {
					lits = append(lits, []string{lit})
				}
			}
			for _, l := range lits {
				if r.floorEntry != nil {
					l = []string{troubleAnchor(l[0])}
				}
				for _, p := range r.process {
					procAnchors[p] = append(procAnchors[p], anchor(l))
					procAnchored[p] = append(procAnchored[p], idx)
				}
				if len(r.process) > 0 {
					continue
				}
				anchors = append(anchors, anchor(l))
				anchored = append(anchored, idx)
				if len(r.Match.Source) == 0 {
					globalAnchors = append(globalAnchors, anchor(l))
					globalAnchored = append(globalAnchored, idx)
				}
			}
			c.noteScanScope(r)
		case len(r.Match.Fields) > 0:
			k := firstKey(r.Match.Fields)
			if c.byField[k] == nil {
				c.byField[k] = map[string][]int32{}
			}
			c.byField[k][r.Match.Fields[k]] = append(c.byField[k][r.Match.Fields[k]], idx)
		case len(r.process) > 0:
			for _, p := range r.process {
				c.byProcess[p] = append(c.byProcess[p], idx)
			}
		default:
			c.anyEvent = append(c.anyEvent, idx)
		}
	}
	for k, v := range c.byField {
		c.fieldKeys = append(c.fieldKeys, fieldIndex{k, v})
	}
	c.unscoped = newLiteralIndex(anchors, anchored)
	c.byProcessIx = make(map[string]*literalIndex, len(procAnchors))
	for p, a := range procAnchors {
		c.byProcessIx[p] = newLiteralIndex(a, procAnchored[p])
	}
	c.global = newLiteralIndex(globalAnchors, globalAnchored)
	n := len(c.all)
	c.scratch.New = func() any { return &scratch{seen: make([]uint32, n)} }
	return c, nil
}

// noteScanScope records which events a literal rule can match, by process or by source.
func (c *Catalog) noteScanScope(r *Rule) {
	switch {
	case len(r.process) > 0: // found through the automaton of its processes
	case len(r.Match.Source) > 0:
		for _, s := range r.Match.Source {
			c.scanSources[s] = true
		}
	default:
		c.scanAll = true
	}
}

// scanIndexes returns the automata to run over ev's message: the one of its process
// when a literal rule names the process, and the one of the rules naming no process when
// one of them names ev's source, else the global one when unscoped rules exist;
// lowerProcess is its process normalised (appendProcess). Every rule an automaton finds
// is still checked whole (Rule.matches): the automata only have to hold, between them,
// every rule that could match.
func (c *Catalog) scanIndexes(ev *event.Event, lowerProcess []byte) (proc, rest *literalIndex) {
	proc = c.byProcessIx[string(lowerProcess)]
	switch {
	case c.scanSources[ev.Source]:
		rest = c.unscoped
	case c.scanAll:
		rest = c.global
	}
	return proc, rest
}

// maxAnchor bounds the part of a literal that goes into the automaton. Its table grows
// with the sum of anchor lengths and is walked once per message byte, so it must stay
// small enough for the processor's cache; twelve bytes already single out a message, and
// the whole literal is checked when the rule is considered.
const maxAnchor = 12

// anchor returns the first maxAnchor bytes of the longest literal.
func anchor(ss []string) string {
	a := longest(ss)
	if len(a) > maxAnchor {
		a = a[:maxAnchor]
	}
	return a
}

// troubleAnchor is the anchor of a trouble word: the word without its first byte
// ("ailed" for failed, Failed; "rror" for error, Error), which finds every case form at
// once and, above all, begins with a pair of bytes rarer in text than the word's own
// ("er", "fa", "co"): the scan's skip (literalIndex.pairs) stops at far fewer positions.
// troubleWord checks the whole word.
func troubleAnchor(w string) string {
	if len(w) < 4 {
		return w
	}
	return anchor([]string{w[1:]})
}

func longest(ss []string) string {
	best := ss[0]
	for _, s := range ss[1:] {
		if len(s) > len(best) {
			best = s
		}
	}
	return best
}

func firstKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0]
}

// Rules returns the rules in catalog order (without the floor's).
func (c *Catalog) Rules() []*Rule { return c.rules }

// Floor returns the rules of the severity floor, in table order.
func (c *Catalog) Floor() []*Rule {
	if c.floor == nil {
		return nil
	}
	return c.floor.rules
}

// Rule returns the rule with id.
func (c *Catalog) Rule(id string) (*Rule, bool) {
	r, ok := c.byID[id]
	return r, ok
}

// Classify finds the rule for ev and applies it: component, class, rule, title, level,
// notification, assert, and the regex's named groups as fields. When no rule matches, the
// severity floor's rule for ev applies (class unclassified); a catch-all rule with floor
// set takes the floor's level when that is higher, and names the floor rule in the field
// "floor". It returns the rule, or nil when neither a rule nor the floor applies (ev is
// left as it was).
//
// A trouble word of the floor (a row of anywhere words: "failed", "I/O error") counts
// like the severity the sender wrote: it raises the floor's level and a catch-all's.
func (c *Catalog) Classify(ev *event.Event) *Rule {
	if ev.Source == event.SourceUnparsed {
		return c.classifyUnparsed(ev)
	}
	best, trouble, loc := c.match(ev)
	if best != nil {
		best.apply(ev, loc)
		if best.Floor {
			if f := c.floor.pick(ev, trouble); f != nil && event.LevelRank(f.Level) > event.LevelRank(best.Level) {
				ev.Level = f.Level
				ev.Fields.SetString("floor", f.ID)
			}
		}
	}
	return best
}

// classifyUnparsed checks a line no parser understood for what always matters whoever
// writes it: the rules no source or process scopes (safety nets, PKCS#11 return codes)
// and the level words of the floor, over the whole line. The event stays unparsed (its
// source, raw text and reason); without such a match it gets no rule, as before.
func (c *Catalog) classifyUnparsed(ev *event.Event) *Rule {
	if ev.Message != "" || ev.Raw == "" {
		return nil
	}
	ev.Message = ev.Raw
	best := c.Match(ev)
	ev.Message = ""
	if best == nil || (best.floorEntry != nil && best.floorEntry.Severity != "" && !c.mnemonicRaise(ev.Raw, best)) {
		return nil
	}
	best.apply(ev, nil) // its regex ran over the raw line, which is not the message
	ev.Source = event.SourceUnparsed
	return best
}

// mnemonicRaise reports whether the floor's severity row r is what a Cisco mnemonic in
// the line says ("%PKT_INFRA-LINK-3-UPDOWN :" is err) and raises it: the sender wrote that
// severity into the message's name, a reading as good as a parsed <PRI>, where a severity
// row read from nothing (an unparsed line has none) would say nothing.
func (c *Catalog) mnemonicRaise(raw string, r *Rule) bool {
	return !below(r, "warning") && c.floor.mnemonic(raw) == r
}

// Match returns the rule that classifies ev without changing ev: the best matching rule,
// else the severity floor's rule (a trouble word's row when it is higher).
func (c *Catalog) Match(ev *event.Event) *Rule {
	best, _, _ := c.match(ev)
	return best
}

// match returns the best rule for ev, else the floor's rule, and the highest row of
// anywhere words found in its message (trouble), which is never the best rule itself
// unless it is above the floor's reading of an event no rule knows.
func (c *Catalog) match(ev *event.Event) (best, trouble *Rule, loc []int) {
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	s.loc = nil
	s.gen++
	if s.gen == 0 { // wrapped: forget every mark
		clear(s.seen)
		s.gen = 1
	}
	consider := func(i int32) {
		if s.seen[i] == s.gen {
			return
		}
		s.seen[i] = s.gen
		r := c.all[i]
		if r.floorEntry != nil {
			s.troubles = append(s.troubles, r) // checked at the end, only when it can count
			return
		}
		if better(r, best) && r.matches(ev, s) {
			best, s.loc = r, s.cand
		}
	}
	s.buf = appendProcess(s.buf[:0], ev.Process)
	proc, rest := c.scanIndexes(ev, s.buf)
	// Rules of negative priority (safety nets) are considered after the others: once a
	// specific rule matched, better() rejects them without running their regex.
	s.deferred = s.deferred[:0]
	found := func(i int32) {
		if c.all[i].Priority < 0 {
			s.deferred = append(s.deferred, i)
			return
		}
		consider(i)
	}
	if proc != nil {
		proc.scan(ev.Message, found)
	}
	if rest != nil {
		rest.scan(ev.Message, found)
		if _, text := errorField(ev); text != "" {
			// the floor's trouble words are read in a structured record's error too
			// (troubleScan.text); the specific rules match the message alone
			rest.scan(text, func(i int32) {
				if c.all[i].floorEntry != nil {
					consider(i)
				}
			})
		}
	}
	for _, fi := range c.fieldKeys {
		if len(ev.Fields) == 0 {
			break // most syslog noise has no fields
		}
		if f, ok := ev.Fields.Get(fi.key); ok {
			for _, i := range fi.values[f.String()] {
				consider(i)
			}
		}
	}
	if ev.Process != "" {
		for _, i := range c.byProcess[string(s.buf)] {
			consider(i)
		}
	}
	for _, i := range c.anyEvent {
		consider(i)
	}
	for _, i := range s.deferred {
		consider(i)
	}
	s.deferred = s.deferred[:0]
	if best == nil || best.Floor {
		// A trouble word counts only for an event no rule knows or a rule that takes the
		// floor's level: most events that a specific rule classifies skip the check.
		ts := troubleScan{ev: ev, lower: s.lower[:0]}
		trouble = pickTrouble(&ts, s.troubles)
		s.lower = ts.lower
	}
	s.troubles = s.troubles[:0]
	if best == nil {
		best = c.floor.pick(ev, trouble)
	}
	return best, trouble, s.loc
}

// pickTrouble returns the row of trouble words that counts for the event: a quiet row
// found in it, else the highest row found (a row that counts over a stated level on a tie).
func pickTrouble(ts *troubleScan, rows []*Rule) *Rule {
	var trouble *Rule
	for _, r := range rows {
		if r.floorEntry.Quiet {
			if ts.in(r) {
				return r
			}
			continue
		}
		switch {
		case r == trouble:
		case trouble == nil, event.LevelRank(r.Level) > event.LevelRank(trouble.Level),
			r.Level == trouble.Level && r.floorEntry.Stated && !trouble.floorEntry.Stated:
			if ts.in(r) {
				trouble = r
			}
		}
	}
	return trouble
}

// better reports whether r outranks the current best: higher priority, then more
// specific, then earlier in the catalog (the caller considers rules in no fixed order, so
// ties are broken by id to stay deterministic).
func better(r, best *Rule) bool {
	if best == nil {
		return true
	}
	if r.Priority != best.Priority {
		return r.Priority > best.Priority
	}
	if r.specificity != best.specificity {
		return r.specificity > best.specificity
	}
	return r.ID < best.ID
}

// appendProcess appends the process name as rules compare it: lower case, without a
// path ("/usr/sbin/sshd") and without a parenthesised part ("sshd(pam_unix)"), so that a
// rule written for sshd matches every variant.
func appendProcess(dst []byte, s string) []byte {
	if i := strings.IndexByte(s, '('); i > 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return appendLower(dst, s)
}

// normProcess is appendProcess for a rule's process names.
func normProcess(s string) string { return string(appendProcess(nil, s)) }

// matches checks every constraint of the rule, the regex last, against ev and s.buf (the
// event's process normalised by appendProcess); a regex with named groups leaves its
// submatch indices in s.cand.
func (r *Rule) matches(ev *event.Event, s *scratch) bool {
	process := s.buf
	s.cand = nil
	m := &r.Match
	if len(m.Source) > 0 && !inList(m.Source, ev.Source, false) {
		return false
	}
	if len(r.process) > 0 && !inBytes(r.process, process) {
		return false
	}
	if len(m.Facility) > 0 && !inList(m.Facility, ev.Facility, false) {
		return false
	}
	if len(m.Severity) > 0 && !inList(m.Severity, ev.Severity, false) {
		return false
	}
	if m.Host != "" {
		if ok, _ := path.Match(strings.ToLower(m.Host), strings.ToLower(ev.Host)); !ok {
			return false
		}
	}
	for _, lit := range m.Contains {
		if !strings.Contains(ev.Message, lit) {
			return false
		}
	}
	if len(m.ContainsAny) > 0 && !containsAny(ev.Message, m.ContainsAny) {
		return false
	}
	for k, v := range m.Fields {
		if f, ok := ev.Fields.Get(k); !ok || f.String() != v {
			return false
		}
	}
	switch {
	case r.re == nil:
		return true
	case r.captures:
		s.cand = r.re.FindStringSubmatchIndex(ev.Message)
		return s.cand != nil
	}
	return r.re.MatchString(ev.Message)
}

func inBytes(list []string, v []byte) bool {
	for _, x := range list {
		if x == string(v) {
			return true
		}
	}
	return false
}

func containsAny(s string, lits []string) bool {
	for _, lit := range lits {
		if strings.Contains(s, lit) {
			return true
		}
	}
	return false
}

func inList(list []string, v string, fold bool) bool {
	for _, x := range list {
		if x == v || (fold && strings.EqualFold(x, v)) {
			return true
		}
	}
	return false
}

// apply writes what the rule says into ev: loc holds the submatch indices its regex found
// in ev.Message when the rule matched (nil: no fields from it).
func (r *Rule) apply(ev *event.Event, loc []int) {
	ev.Component, ev.Class, ev.Rule, ev.Title, ev.Level = r.Component, r.Class, r.ID, r.Title, r.Level
	ev.Notification = r.Notification
	if r.captures && loc != nil {
		for g, name := range r.re.SubexpNames() {
			if name != "" && loc[2*g] >= 0 {
				ev.Fields.SetString(name, ev.Message[loc[2*g]:loc[2*g+1]])
			}
		}
	}
	ev.Assert = event.Unset
	if r.assert != nil {
		if v, ok := r.assert.eval(ev); ok {
			ev.Assert = event.TriOf(v)
		}
	}
}
