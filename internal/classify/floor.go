package classify

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// FloorEntry is one row of the severity floor (catalog/floor.yaml): the level an event
// gets when no specific rule knows it, from the severity its sender wrote or from a level
// word at the start of its message. See catalog/README.md.
type FloorEntry struct {
	ID       string   `yaml:"id"`
	Severity string   `yaml:"severity"` // a normalised syslog severity, or "none" for an event without one
	Words    []string `yaml:"words"`    // spellings, case-sensitive, at the start of the message or after [tags]
	// Tags are spellings that count only as a whole bracketed tag ("[E]", "<E>") or as
	// the letter of a glog/klog head ("E0612 12:34:56.789012 ..."): too short to be read
	// as a word at the start of a message. Words count as tags too.
	Tags []string `yaml:"tags"`
	// Values are spellings, compared without case, that count only as the value of a
	// level key in the message ("level=error", "severity: high", "\"level\":\"warn\""). Words
	// count as values too.
	Values []string `yaml:"values"`
	// States are the states of a check, in capitals, as a Nagios or Icinga log writes them
	// in its alert, notification and state lines ("SERVICE ALERT: host;disk;CRITICAL;HARD;3;...").
	States []string `yaml:"states"`
	// Anywhere are spellings, case-sensitive, that count as whole words anywhere in the
	// message ("Write-error on swap-device", "Communications with UPS lost"): trouble
	// words that raise a message no specific rule knows, whoever wrote it and whatever
	// severity it came with. A spelling negated within its clause ("no errors", "0
	// failed", "without error") or used as a key, followed by "=" ("failed=0"), does not
	// count.
	// A row of anywhere words has nothing else to match on.
	Anywhere []string `yaml:"anywhere"`
	// With, for a row of anywhere words, are lower-case spellings of which one must also
	// be in the message, in any case ("pkcs11", "hsm"): the context that makes a failure
	// matter more than the word alone says.
	With      []string `yaml:"with"`
	withBytes [][]byte // With, for bytes.Contains on troubleScan's lower-case text
	// Boot keeps the row in force for kernel lines of the first seconds after boot, when
	// the other trouble rows are quiet (booting).
	Boot bool `yaml:"boot"`
	// Stated lets a row of anywhere words raise a message whose program stated a level
	// below warning (a Cisco mnemonic's notice, an "INFO" word), but not debug: what the
	// words name (a link or a neighbour gone down) matters to an HSM's operator more than
	// to the device that logged it as routine.
	Stated bool `yaml:"stated"`
	// Quiet makes a row of anywhere words lower rather than raise: a message that carries
	// one of its spellings gets the row's level from the floor whatever its severity, level
	// word or trouble words say (a failed login of a user on some service is the internet's
	// noise, not a fault). Specific rules still count.
	Quiet bool `yaml:"quiet"`
	// Unless, for a row of anywhere words, are lower-case spellings of which none may be
	// in the message or the process name, in any case: the contexts where the row's words
	// say something else (a quiet row's login to an HSM, a token or a PIN matters; an
	// interface "administratively down" was shut by its operator).
	Unless      []string  `yaml:"unless"`
	unlessBytes [][]byte  // Unless, for bytes.Contains on troubleScan's lower-case text
	Level       string    `yaml:"level"`
	Title       string    `yaml:"title"`
	Meaning     string    `yaml:"meaning"`
	Action      string    `yaml:"action"`
	Examples    []Example `yaml:"examples"`
}

func validSeverity(s string) bool {
	switch s {
	case "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "none":
		return true
	}
	return false
}

// rule turns the entry into the rule events of the floor carry: class unclassified, no
// component (no rule knows which part of the system spoke).
func (f *FloorEntry) rule(origin string) (*Rule, error) {
	switch {
	case !strings.HasPrefix(f.ID, "floor.") || strings.ContainsAny(f.ID, " \t"):
		return nil, fmt.Errorf("floor entry %q: id must start with \"floor.\" and hold no spaces", f.ID)
	case len(f.Anywhere) > 0 && f.Severity+strings.Join(f.Words, "")+strings.Join(f.Tags, "")+strings.Join(f.Values, "") != "":
		return nil, fmt.Errorf("floor entry %s: a row of anywhere words has no severity, words, tags or values", f.ID)
	case len(f.With) > 0 && len(f.Anywhere) == 0:
		return nil, fmt.Errorf("floor entry %s: with belongs to a row of anywhere words", f.ID)
	case strings.ToLower(strings.Join(f.With, "\x00")) != strings.Join(f.With, "\x00"):
		return nil, fmt.Errorf("floor entry %s: write the spellings of with in lower case (they are compared in any case)", f.ID)
	case len(f.States) > 0 && f.Severity+strings.Join(f.Words, "")+strings.Join(f.Tags, "")+strings.Join(f.Values, "")+strings.Join(f.Anywhere, "") != "":
		return nil, fmt.Errorf("floor entry %s: a row of states has no severity, words, tags, values or anywhere", f.ID)
	case len(f.Anywhere)+len(f.States) == 0 && (f.Severity == "") == (len(f.Words)+len(f.Tags)+len(f.Values) == 0):
		return nil, fmt.Errorf("floor entry %s: give either severity, words (tags, values), states or anywhere", f.ID)
	case f.Severity != "" && !validSeverity(f.Severity):
		return nil, fmt.Errorf("floor entry %s: severity %q is not one of emerg alert crit err warning notice info debug none", f.ID, f.Severity)
	case !validLevel(f.Level):
		return nil, fmt.Errorf("floor entry %s: level %q is not one of critical, major, minor, warning, info, debug", f.ID, f.Level)
	}
	if (f.Boot || f.Stated || f.Quiet) && len(f.Anywhere) == 0 {
		return nil, fmt.Errorf("floor entry %s: boot, stated and quiet belong to a row of anywhere words", f.ID)
	}
	switch {
	case len(f.Unless) > 0 && len(f.Anywhere) == 0:
		return nil, fmt.Errorf("floor entry %s: unless belongs to a row of anywhere words", f.ID)
	case f.Quiet && (f.Stated || f.Boot):
		return nil, fmt.Errorf("floor entry %s: a quiet row lowers; stated and boot are for rows that raise", f.ID)
	case strings.ToLower(strings.Join(f.Unless, "\x00")) != strings.Join(f.Unless, "\x00"):
		return nil, fmt.Errorf("floor entry %s: write the spellings of unless in lower case (they are compared in any case)", f.ID)
	}
	for _, w := range append(append(append(f.Words[:len(f.Words):len(f.Words)], f.Tags...), f.Values...), f.Anywhere...) {
		if strings.TrimSpace(w) == "" {
			return nil, fmt.Errorf("floor entry %s: empty word, tag or value", f.ID)
		}
	}
	if f.Severity != "" && len(f.Tags)+len(f.Values) > 0 {
		return nil, fmt.Errorf("floor entry %s: tags and values belong to a row of words, not of a severity", f.ID)
	}
	title := f.Title
	if title == "" {
		title = "Unclassified message"
	}
	f.withBytes = make([][]byte, len(f.With))
	for i, w := range f.With {
		f.withBytes[i] = []byte(w)
	}
	f.unlessBytes = make([][]byte, len(f.Unless))
	for i, w := range f.Unless {
		f.unlessBytes[i] = []byte(w)
	}
	r := &Rule{ID: f.ID, Class: event.ClassUnclassified, Title: title, Level: f.Level, Meaning: f.Meaning,
		Action: f.Action, Examples: f.Examples, Origin: origin, floorEntry: f}
	if len(f.Anywhere) > 0 {
		// Found through the catalog's literal index like an unscoped rule, considered last
		// (see Catalog.match), and checked whole by troubleWord.
		r.Match.ContainsAny = f.Anywhere
		r.Priority = anywherePriority
	}
	return r, nil
}

// floorWord is one spelling of a level word.
type floorWord struct {
	word     string
	boundary bool // the word ends in a letter or digit: the next byte must not be one
	rule     *Rule
}

// floorTable picks the floor rule of an event. It runs for most events of a syslog
// server's noise, so lookups are by array: severities by their index, words by their
// first byte.
type floorTable struct {
	rules      []*Rule
	bySeverity [numSeverities]*Rule // index: severityIndex; "none" for an event without one
	byFirst    [256][]floorWord
	tags       map[string]*Rule // a whole bracketed tag, or a glog head's letter: words and tags
	states     map[string]*Rule // a Nagios or Icinga check's state
	values     map[string]*Rule // the lower-case value of a level key: words and values
}

// numSeverities counts the keys of the severity rows: the eight syslog severities and
// "none".
const numSeverities = 9

// severityIndex returns the index of s in severities (an empty severity is "none"), or -1.
func severityIndex(s string) int {
	switch s {
	case "emerg":
		return 0
	case "alert":
		return 1
	case "crit":
		return 2
	case "err":
		return 3
	case "warning":
		return 4
	case "notice":
		return 5
	case "info":
		return 6
	case "debug":
		return 7
	case "none", "":
		return 8
	}
	return -1
}

func newFloorTable(rules []*Rule) *floorTable {
	t := &floorTable{rules: rules, tags: map[string]*Rule{}, values: map[string]*Rule{}, states: map[string]*Rule{}}
	shareWordLists(rules)
	// higher keeps, for a spelling two rows share, the row of the higher level.
	higher := func(m map[string]*Rule, k string, r *Rule) {
		if o := m[k]; o == nil || event.LevelRank(r.Level) > event.LevelRank(o.Level) {
			m[k] = r
		}
	}
	for _, r := range rules {
		f := r.floorEntry
		if i := severityIndex(f.Severity); f.Severity != "" && i >= 0 {
			t.bySeverity[i] = r
		}
		for _, w := range f.Words {
			last := w[len(w)-1]
			t.byFirst[w[0]] = append(t.byFirst[w[0]], floorWord{word: w, boundary: isWordByte(last), rule: r})
			higher(t.tags, w, r)
			if len(w) <= maxValue {
				higher(t.values, strings.ToLower(w), r)
			}
		}
		for _, w := range f.Tags {
			higher(t.tags, w, r)
		}
		for _, w := range f.States {
			higher(t.states, w, r)
		}
		for _, w := range f.Values {
			if len(w) <= maxValue {
				higher(t.values, strings.ToLower(w), r)
			}
		}
	}
	return t
}

// shareWordLists makes rows whose anywhere words are the same (a YAML alias, *trouble,
// decodes to a copy per row) share one slice, so that troubleScan asks each list once per
// event whatever the number of rows built on it.
func shareWordLists(rules []*Rule) {
	byWords := map[string][]string{}
	for _, r := range rules {
		words := r.Match.ContainsAny
		if len(words) == 0 {
			continue
		}
		k := strings.Join(words, "\x00")
		if shared, ok := byWords[k]; ok {
			r.Match.ContainsAny = shared
		} else {
			byWords[k] = words
		}
	}
}

// maxValue bounds the value of a level key that is looked up: level words are short.
const maxValue = 16

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// pick returns the floor rule of ev: the higher of what its severity and its level word
// say (the word on a tie: it is what the message itself says), or nil when the table has
// neither. The row of a trouble word found in the message (trouble, nil for none) counts
// as a third reading unless the message states its own level (a level word, even "INFO")
// or the sender wrote debug: the program's own word on its message wins over a word of
// the text.
func (t *floorTable) pick(ev *event.Event, trouble *Rule) *Rule {
	if t == nil {
		return nil
	}
	if trouble != nil && trouble.floorEntry.Quiet {
		// A quiet row's words: whatever else the line says is kept at the row's level.
		if r := t.pick(ev, nil); r != nil && below(r, trouble.Level) {
			return r
		}
		return trouble
	}
	var sev *Rule
	if i := severityIndex(ev.Severity); i >= 0 {
		sev = t.bySeverity[i]
	}
	word := t.word(ev.Message)
	if word == nil && ev.Process == "" {
		// a csvlog record has no process (internal/parse reads its columns as the message)
		word = t.csvlog(ev.Message)
	}
	if word == nil && strings.HasPrefix(ev.Process, "%") {
		// a Cisco mnemonic the header reader took for the process ("10.0.0.1
		// %SEC-6-IPACCESSLOGP: list 102 denied ..."): its severity digit still counts
		word = t.mnemonic(ev.Process + ":")
	}
	switch {
	case word == nil:
		if sev != nil && (sev.Level == "debug" || ownLevel(ev) && below(sev, "warning")) {
			return stated(sev, trouble)
		}
		return higherRule(sev, trouble)
	case sev == nil || sev.floorEntry.Severity == "none" || event.LevelRank(word.Level) >= event.LevelRank(sev.Level):
		// No severity written: the word is the only reading. A warning the program
		// stated still rises with a trouble row that names what failed (a key, an HSM,
		// a disk): the program saw a failure, the context says how much it matters here.
		if !below(word, "warning") {
			return higherRule(word, trouble)
		}
		return stated(word, trouble)
	}
	return sev
}

// stated returns the level the program stated (r, below warning) unless a row of trouble
// words that counts over it (stated: true) says more; debug keeps its word.
func stated(r, trouble *Rule) *Rule {
	if trouble == nil || !trouble.floorEntry.Stated || r.Level == "debug" {
		return r
	}
	return higherRule(r, trouble)
}

// below reports whether r's level ranks below level.
func below(r *Rule, level string) bool { return event.LevelRank(r.Level) < event.LevelRank(level) }

// ownLevel reports whether ev's severity is a level word its program wrote into the line
// (an application log's "INFO", logfmt's level=, a JSON record's level, logrus' head), which
// internal/parse moved into the severity: it is the program's own word on its message, as
// a level word left in the message is.
func ownLevel(ev *event.Event) bool {
	switch ev.Source {
	case event.SourceAppLog, event.SourceLogfmt, event.SourceJSON, event.SourceLogrus:
		return ev.Severity != ""
	}
	return false
}

// higherRule returns the rule of the higher level, a on a tie; either may be nil.
func higherRule(a, b *Rule) *Rule {
	if a == nil || (b != nil && event.LevelRank(b.Level) > event.LevelRank(a.Level)) {
		return b
	}
	return a
}

// word reads the level the message itself states, the highest of:
//   - a whole tag at its head: "[ERROR]", "<E>", "[main/WARN]";
//   - a level word at the start, after blanks, bracketed tags, a time stamp the program
//     wrote itself and "|" or "-" separators ("2024-03-01 12:00:00,123 | ERROR | ...");
//     a word followed by "=" is a key ("error=0"), not a level;
//   - the letter of a glog/klog head ("E0612 12:34:56.789012 1234 file.go:12] ...");
//   - the value of a level key anywhere in it ("level=error", "\"severity\":\"high\"").
func (t *floorTable) word(msg string) *Rule {
	if r := t.nagios(msg); r != nil {
		return r // before head, which would read "SERVICE ALERT" as a level in capitals
	}
	if r := t.postgres(msg); r != nil {
		return r // before head, which would read "[812] FATAL:  " as a fatal tag and word
	}
	if r := t.head(msg); r != nil {
		return r
	}
	if r := t.mnemonic(msg); r != nil {
		return r
	}
	return t.keyed(msg)
}

// nagios reads the state of a check from a Nagios or Icinga log line: the first of its
// ";"-separated fields that is a state of the table ("host;disk;CRITICAL;HARD;3;..."; a
// notification names its contact first). The monitor that wrote the line has already
// judged it: its CRITICAL is that check's, read as the rows say.
func (t *floorTable) nagios(msg string) *Rule {
	if len(t.states) == 0 || len(msg) < 12 {
		return nil
	}
	if msg[0] == '[' { // an unparsed line keeps its "[1427956600] "
		if k := strings.IndexByte(msg, ']'); k > 0 && k+2 < len(msg) {
			msg = msg[k+2:]
		}
	}
	if msg[0] != 'S' && msg[0] != 'H' && msg[0] != 'C' {
		return nil
	}
	// the lines of a Nagios or Icinga (compat) log that carry a check's state
	heads := [...]string{"SERVICE ALERT: ", "SERVICE NOTIFICATION: ", "CURRENT SERVICE STATE: ",
		"HOST ALERT: ", "HOST NOTIFICATION: ", "CURRENT HOST STATE: "}
	for _, h := range heads {
		rest, ok := strings.CutPrefix(msg, h)
		if !ok {
			continue
		}
		for n := 0; n < 4; n++ {
			f, after, _ := strings.Cut(rest, ";")
			if r := t.states[f]; r != nil {
				return r
			}
			rest = after
		}
		return nil
	}
	return nil
}

// postgres reads PostgreSQL's message level, which its server log writes as a word in
// capitals, a colon and two spaces after whatever log_line_prefix put first
// ("2025-04-03 22:32:14.322 CEST [31225] app@db LOG:  ..."), among the first
// mnemonicReach bytes. The levels are PostgreSQL's (its documentation, "Message Severity
// Levels"): PANIC ends every session (crit); FATAL ends one client's session (a failed
// login, a database that does not exist, a server starting up) and ERROR one command: the
// server goes on (warning; postgres.yaml names the ones that matter more); WARNING,
// NOTICE, LOG and INFO as named, DEBUG1 to DEBUG5 debug; DETAIL, HINT, CONTEXT and STATEMENT follow the line that
// carries the level and say nothing of their own (info).
func (t *floorTable) postgres(msg string) *Rule {
	s := msg[:min(len(msg), mnemonicReach)]
	k := strings.Index(s, ":  ")
	if k < 3 {
		return nil
	}
	j := k
	for j > 0 && (msg[j-1] >= 'A' && msg[j-1] <= 'Z' || isDigit(msg[j-1])) {
		j--
	}
	if j > 0 && msg[j-1] != ' ' && msg[j-1] != ']' {
		return nil
	}
	return t.postgresLevel(msg[j:k])
}

// postgresLevel maps a PostgreSQL level to a severity row (see postgres).
func (t *floorTable) postgresLevel(level string) *Rule {
	sev := -1
	switch level {
	case "PANIC":
		sev = severityIndex("crit")
	case "FATAL", "ERROR", "WARNING":
		sev = severityIndex("warning")
	case "NOTICE":
		sev = severityIndex("notice")
	case "LOG", "INFO", "DETAIL", "HINT", "CONTEXT", "STATEMENT":
		sev = severityIndex("info")
	case "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5":
		sev = severityIndex("debug")
	default:
		return nil
	}
	return t.bySeverity[sev]
}

// csvlog reads the level of a PostgreSQL csvlog record as postgres reads the prefixed
// one: the word in capitals before its five-character SQLSTATE, both quoted or neither
// (`...,LOG,00000,"connection authorized"`, Greenplum's `...,"FATAL","XX001","invalid page
// in block 2423"`), among its first 300 bytes; nil when there is none.
func (t *floorTable) csvlog(msg string) *Rule {
	s := msg[:min(len(msg), 300)]
	if strings.Count(s, ",") < csvLevelColumn {
		return nil // not a csvlog record: most lines stop here, at the cost of one count
	}
	for i := strings.IndexByte(s, ','); i >= 0 && i+8 < len(s); {
		if level, ok := csvLevelAt(s, i+1); ok {
			if r := t.postgresLevel(level); r != nil {
				return r
			}
		}
		k := strings.IndexByte(s[i+1:], ',')
		if k < 0 {
			return nil
		}
		i += k + 1
	}
	return nil
}

// csvLevelColumn is how many commas stand before a csvlog record's level: eleven columns
// precede it in PostgreSQL's csvlog (time, user, database, pid, client, session, line,
// command tag, session start, virtual and real transaction), and Greenplum's has more.
const csvLevelColumn = 11

// csvLevelAt reads `LEVEL,CODE,` or `"LEVEL","CODE",` at i: a word in capitals (the
// caller knows which are levels) and a SQLSTATE of five capitals or digits.
func csvLevelAt(s string, i int) (string, bool) {
	q := i < len(s) && s[i] == '"'
	if q {
		i++
	}
	j := i
	for j < len(s) && (s[j] >= 'A' && s[j] <= 'Z' || isDigit(s[j])) {
		j++
	}
	level := s[i:j]
	if level == "" {
		return "", false
	}
	sep := ","
	if q {
		sep = `","`
	}
	if !strings.HasPrefix(s[j:], sep) {
		return "", false
	}
	j += len(sep)
	if j+6 > len(s) {
		return "", false
	}
	for _, c := range []byte(s[j : j+5]) {
		if !(c >= 'A' && c <= 'Z' || isDigit(c)) {
			return "", false
		}
	}
	if q {
		return level, strings.HasPrefix(s[j+5:], `",`)
	}
	return level, s[j+5] == ','
}

// mnemonic reads the severity of a Cisco message mnemonic, "%FACILITY-SEVERITY-MNEMONIC:"
// ("%LINK-3-UPDOWN:", "%EARL-SW2_DFC1-1-EXCESSIVE_PARITY_ERROR:"), among the first
// mnemonicReach bytes of msg: IOS, NX-OS, ASA and the wireless controllers write the
// syslog severity (0 emergencies to 7 debugging) into every message's name, which a relay
// or a line without its <PRI> keeps.
func (t *floorTable) mnemonic(msg string) *Rule {
	s := msg[:min(len(msg), mnemonicReach)]
	for {
		k := strings.IndexByte(s, '%')
		if k < 0 {
			return nil
		}
		s = s[k+1:]
		if d, ok := mnemonicSeverity(s); ok && (!firewallMnemonic(s) || d <= 1 && !packetMnemonic(s)) {
			return t.bySeverity[d]
		}
	}
}

// mnemonicReach bounds how far into a message a Cisco mnemonic is looked for: a sequence
// number, a host, a process and a time stamp may come first.
const mnemonicReach = 160

// firewallMnemonic reports whether s names a message of Cisco's firewalls (ASA, PIX,
// FWSM, FTD): their message guides rate traffic events at 2 to 4 (a denied connection,
// "%ASA-2-106001", is "critical"), so from 2 down the digit says how the firewall rates a
// packet, not how the system is.
func firewallMnemonic(s string) bool {
	for _, f := range [...]string{"ASA-", "PIX-", "FWSM-", "FTD-"} {
		if strings.HasPrefix(s, f) {
			return true
		}
	}
	return false
}

// packetMnemonic reports whether the firewall message s ("ASA-1-106021: ...") is one of
// the access messages (106xxx: a packet denied, spoofed, dropped), the only traffic events
// a firewall rates at 0 or 1. Its other alerts are about the firewall itself (failover,
// its power, its temperature) and keep their severity.
func packetMnemonic(s string) bool {
	j := strings.IndexByte(s, '-')
	return j >= 0 && strings.HasPrefix(s[min(len(s), j+3):], "106")
}

// mnemonicSeverity reads "FACILITY(-SUB)*-D-MNEMONIC:" at the start of s (after the "%")
// and returns D, the severity's index (0 emerg .. 7 debug, severityIndex's order).
func mnemonicSeverity(s string) (int, bool) {
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' }
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return 0, false
	}
	i := 0
	for {
		for i < len(s) && upper(s[i]) {
			i++
		}
		// at "-D-X": the severity, then the mnemonic up to its colon
		if i+3 < len(s) && s[i] == '-' && s[i+1] >= '0' && s[i+1] <= '7' && s[i+2] == '-' {
			j := i + 3
			for j < len(s) && upper(s[j]) {
				j++
			}
			if j > i+3 && j < len(s) && s[j] == ':' {
				return int(s[i+1] - '0'), true
			}
		}
		if i+1 < len(s) && s[i] == '-' && upper(s[i+1]) {
			i++
			continue
		}
		return 0, false
	}
}

// head reads the level stated at the head of msg: the first whole tag that names one, or
// else the level word after the tags, stamps and separators, or else a level word in
// capitals among the first words in capitals ("RAS KERNEL FATAL ...", "081109 203615 148
// INFO dfs.DataNode: ..."). The first statement wins: in "[DEBUG] ERROR, cannot load
// /etc/x" the program logged at debug a text that starts with a word.
func (t *floorTable) head(msg string) *Rule {
	if r := t.eventType(msg); r != nil {
		return r
	}
	i, stamped := 0, false
	for n := 0; n < 8; n++ {
		for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
			i++
		}
		if i >= len(msg) {
			break
		}
		if c := msg[i]; c == '[' || c == '<' {
			end := byte(']')
			if c == '<' {
				end = '>'
			}
			j := strings.IndexByte(msg[i+1:], end)
			if j < 0 || j > 40 {
				break
			}
			if r := t.tag(msg[i+1 : i+1+j]); r != nil {
				return r
			}
			i += j + 2
			continue
		}
		if msg[i] == '#' {
			// Ekinops OneOS and others mark the level between hashes ("#NOTIFY#")
			j := strings.IndexByte(msg[i+1:], '#')
			if j <= 0 || j > 12 {
				break
			}
			if r := t.tags[msg[i+1:i+1+j]]; r != nil {
				return r
			}
			i += j + 2
			continue
		}
		if j := stampEnd(msg, i); j > i {
			i, stamped = j, true
			continue
		}
		if j := numberEnd(msg, i); j > i && (stamped || stampNext(msg, j)) {
			// a process id or a count of milliseconds beside the time ("7340 2022-10-30
			// 10:48:06.397 debug1: ...", "22:08:47 213 ERROR ...")
			i = j
			continue
		}
		if j := tagEnd(msg, i); j > i {
			i = j
			continue
		}
		break
	}
	if i >= len(msg) {
		return nil
	}
	rest := msg[i:]
	if glogHead(rest) {
		return t.tags[rest[:1]]
	}
	if r := t.startWord(rest); r != nil {
		return r
	}
	return t.capitals(msg, i)
}

// eventType reads the level of a Windows event forwarded as NTSyslog and Dell's
// OpenManage write it, "SOURCE[TYPE] EVENTID  text" ("clussvc[error] 1079 ...", "Server
// Administrator[info] 1001 ..."): the source's name, perhaps of several words, the
// event's type in brackets where a process id would be, then the event's number.
func (t *floorTable) eventType(msg string) *Rule {
	k := strings.IndexByte(msg[:min(len(msg), eventTypeReach)], '[')
	if k <= 0 || !isWordByte(msg[k-1]) {
		return nil
	}
	e := strings.IndexByte(msg[k:], ']')
	if e < 2 || e > 12 || k+e+2 >= len(msg) || msg[k+e+1] != ' ' || !isDigit(msg[k+e+2]) {
		return nil
	}
	j := k + e + 2
	for j < len(msg) && isDigit(msg[j]) {
		j++
	}
	if j == len(msg) || msg[j] != ' ' || strings.ContainsAny(msg[:k], ":[]") {
		return nil
	}
	return t.tags[msg[k+1:k+e]]
}

// eventTypeReach bounds how far eventType looks for the type: the source's name.
const eventTypeReach = 48

// capitals finds a level word written in capitals among the first words of msg from i
// when every word before it has no small letter (numbers, stamps, node names, upper-case
// component names: the columns of a fixed-format log such as BlueGene's RAS log or
// Hadoop's). The first word with a small letter ends the head; a negated word ("NO
// ERROR") is no level, and neither is one after a lone leading number, which counts it
// ("3 ERROR records skipped").
func (t *floorTable) capitals(msg string, i int) *Rule {
	counted := false
	for n := 0; n < 12 && i < len(msg); n++ {
		j, digits := i, true
		for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' {
			c := msg[j]
			if c >= 'a' && c <= 'z' {
				return nil
			}
			digits = digits && isDigit(c)
			j++
		}
		if c := msg[i]; c >= 'A' && c <= 'Z' && j-i >= 3 && !counted {
			if r := t.startWord(msg[i:]); r != nil && !negated(msg[:i]) {
				return r
			}
		}
		counted = digits && n == 0 // a count leads its word; a column of numbers does not
		for j < len(msg) && (msg[j] == ' ' || msg[j] == '\t') {
			j++
		}
		i = j
	}
	return nil
}

// tag looks up the text of a bracketed tag, trimmed, its part after the last "/" or ":"
// ("main/ERROR", a thread/level form; "core:error", Apache's module:level), and else its
// words of three letters or more one by one ("[P11 - ERR 11:41:59.204728]", a library's
// name, level and time).
func (t *floorTable) tag(s string) *Rule {
	s = strings.TrimSpace(s)
	if r := t.tags[s]; r != nil {
		return r
	}
	if k := strings.LastIndexAny(s, "/:"); k >= 0 {
		if r := t.tags[s[k+1:]]; r != nil {
			return r
		}
	}
	if strings.IndexByte(s, ' ') < 0 {
		return nil // one word, looked up above ("[  12.345678]", "[main]")
	}
	for s != "" {
		w := s
		if k := strings.IndexByte(s, ' '); k >= 0 {
			w, s = s[:k], s[k+1:]
		} else {
			s = ""
		}
		if len(w) >= 3 && !isDigit(w[0]) {
			if r := t.tags[w]; r != nil {
				return r
			}
		}
	}
	return nil
}

// startWord finds a level word at the start of rest.
func (t *floorTable) startWord(rest string) *Rule {
	var best *Rule
	words := t.byFirst[rest[0]]
	for k := range words {
		w := &words[k]
		if !strings.HasPrefix(rest, w.word) {
			continue
		}
		if len(rest) > len(w.word) {
			next := rest[len(w.word)]
			if (w.boundary && isWordByte(next)) || next == '=' {
				continue
			}
			if next == '+' && strings.HasPrefix(rest[len(w.word)+1:], "0x") {
				continue // a frame of a kernel call trace, "panic+0x15c/0x33b"
			}
		}
		if best == nil || event.LevelRank(w.rule.Level) > event.LevelRank(best.Level) {
			best = w.rule
		}
	}
	return best
}

// tagEnd returns the end of a token at i that names the program rather than saying
// anything: GLib's "**" and "(prog:pid):" ("** (tpm2-abrmd:3873): CRITICAL **: ..."), a
// process tag ending in "]:" ("hp-ams[812]:"), and a host before such a tag ("server1
// hp-ams[812]: CRITICAL: ..." in a line no header reader took); or i.
func tagEnd(s string, i int) int {
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	tok := s[i:j]
	switch {
	case tok == "**":
		return j
	case len(tok) > 3 && tok[0] == '(' && strings.HasSuffix(tok, "):"):
		return j
	case len(tok) > 3 && strings.HasSuffix(tok, "]:") && strings.IndexByte(tok, '[') > 0:
		return j
	}
	k := j
	for k < len(s) && s[k] == ' ' {
		k++
	}
	if k > j && k < len(s) && isWordByte(s[i]) {
		e := k
		for e < len(s) && s[e] != ' ' && s[e] != '\t' {
			e++
		}
		if next := s[k:e]; len(next) > 3 && strings.HasSuffix(next, "]:") && strings.IndexByte(next, '[') > 0 {
			return j // the host; the tag is taken next
		}
	}
	return i
}

// stampEnd returns the end of a separator ("|", "-") or of a time stamp token at i (digits
// with at least one of - : / . , T Z +, such as "2024-03-01", "12:00:00,123",
// "2024-03-01T12:00:00.5Z", or with a month's name, "01-Mar-2024"), or i when there is
// none. A bare number is no stamp.
func stampEnd(s string, i int) int {
	if c := s[i]; (c == '|' || c == '-') && (i+1 == len(s) || s[i+1] == ' ') {
		return i + 1
	}
	if !isDigit(s[i]) {
		return i
	}
	j, punct, digits, letters := i, false, 0, 0
	for ; j < len(s) && s[j] != ' ' && s[j] != '\t'; j++ {
		switch c := s[j]; {
		case isDigit(c):
			digits++
		case c == '-' || c == ':' || c == '/' || c == '.' || c == ',':
			punct = true
		case c == 'T' || c == 'Z' || c == '+':
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++ // a month's name: "01-Mar-2024"
		default:
			return i
		}
	}
	if !punct || (letters > 0 && (letters > 3 || digits < 4)) {
		return i
	}
	return j
}

// numberEnd returns the end of a token of digits alone at i, or i.
func numberEnd(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] != ' ' && s[j] != '\t' {
		return i
	}
	return j
}

// stampNext reports whether a time stamp follows the blanks at i.
func stampNext(s string, i int) bool {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i < len(s) && stampEnd(s, i) > i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// glogHead reports whether s starts like a glog/klog line: a level letter, MMDD and a
// time ("E0612 12:34:56.789012").
func glogHead(s string) bool {
	return len(s) >= 9 && isWordByte(s[0]) && !isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) &&
		isDigit(s[3]) && isDigit(s[4]) && s[5] == ' ' && isDigit(s[6]) && isDigit(s[7]) && s[8] == ':'
}

// levelKey reports whether the text before a "=" or ":" at end of s is one of the keys
// that carry a level in key=value and JSON lines (the keys the logfmt reader of
// internal/parse knows: level, lvl, severity, loglevel, and dotted or underscored forms
// such as log.level).
func levelKey(s string, sep int) bool {
	k := sep
	if k > 0 && s[k-1] == '"' {
		k--
	}
	j := k
	for j > 0 && isWordByte(s[j-1]) {
		j--
	}
	if j > 0 {
		switch s[j-1] {
		case ' ', '\t', '"', '{', ',', '.', '_', '(', '[', '@':
		default:
			return false
		}
	}
	key := s[j:k]
	if len(key) < 3 || len(key) > 8 {
		return false
	}
	var buf [8]byte
	for x := 0; x < len(key); x++ {
		c := key[x]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[x] = c
	}
	switch string(buf[:len(key)]) {
	case "level", "lvl", "severity", "loglevel", "pri":
		return true
	}
	return false
}

// keyEnd is levelKey's first test, the one most separators fail: the key before sep
// (behind a closing quote) ends in l, y or i, as level, lvl, severity, loglevel and
// FortiOS' pri do.
func keyEnd(s string, sep int) bool {
	c := s[sep-1]
	if c == '"' && sep > 1 {
		c = s[sep-2]
	}
	c |= 0x20
	return c == 'l' || c == 'y' || c == 'i'
}

// keyed reads the value of every level key in msg ("level=error", "severity: high",
// "\"level\":\"warn\"") and returns the highest row they name.
func (t *floorTable) keyed(msg string) *Rule {
	var best *Rule
	for _, sep := range [2]byte{'=', ':'} {
		for off := 0; off < len(msg); {
			j := strings.IndexByte(msg[off:], sep)
			if j < 0 {
				break
			}
			p := off + j
			off = p + 1
			if p == 0 || !keyEnd(msg, p) || !levelKey(msg, p) {
				continue
			}
			v := off
			for v < len(msg) && (msg[v] == ' ' || msg[v] == '"') {
				v++
			}
			e := v
			for e < len(msg) && isWordByte(msg[e]) && e-v <= maxValue {
				e++
			}
			if e == v || e-v > maxValue {
				continue
			}
			var buf [maxValue]byte
			for x := v; x < e; x++ {
				c := msg[x]
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[x-v] = c
			}
			best = higherRule(best, t.values[string(buf[:e-v])])
		}
	}
	return best
}

// anywherePriority puts the rows of anywhere words below every rule: Catalog.match never
// lets them be the best rule; it keeps the highest that matched beside it.
const anywherePriority = -1 << 20

// troubleWord reports whether one of words stands in msg as a whole word that is not
// negated ("no errors", "0 failed", "without error", "not lost") and not a key
// ("failed=0", "error = 3").
func troubleWord(msg string, words []string) bool {
	for _, w := range words {
		for from := 0; from < len(msg); {
			k := strings.Index(msg[from:], w)
			if k < 0 {
				break
			}
			at := from + k
			from = at + len(w)
			if (at > 0 && isWordByte(w[0]) && isWordByte(msg[at-1])) ||
				(from < len(msg) && isWordByte(w[len(w)-1]) && isWordByte(msg[from])) {
				continue
			}
			if (negated(msg[:at]) && !numbered(msg[:at], w)) || key(msg[from:]) {
				continue
			}
			return true
		}
	}
	return false
}

// troubleScan decides the rows of trouble words for one event, doing once what every row
// would otherwise repeat: whether the event is quiet (booting, Deasserted, a stack frame),
// which word lists stand in the message (rows share lists), and the lower-case text the
// rows' context spellings are looked for in.
type troubleScan struct {
	ev         *event.Event
	quietDone  bool
	quiet      bool // a stack frame or a Deasserted line: no row counts
	boot       bool // a kernel line of the boot window: only boot rows count
	lists      [8]listHit
	nlists     int
	lower      []byte // "message\nprocess" in lower case, built on first use
	lowerReady bool
	txt        string // the message, with a structured record's error (text)
	txtReady   bool
}

// text returns what the trouble words are looked for in: the message, and a structured
// record's error field after it, where JSON, logfmt and logrus loggers put what failed
// ({"msg":"rejected connection","error":"x509: certificate has expired"}).
func (ts *troubleScan) text() string {
	if !ts.txtReady {
		ts.txtReady = true
		ts.txt = ts.ev.Message
		if k, v := errorField(ts.ev); v != "" {
			ts.txt = ts.ev.Message + " (" + k + ": " + v + ")"
		}
	}
	return ts.txt
}

// errorField returns a structured record's error field (its key and text), or "": JSON,
// logfmt and logrus loggers put what failed there rather than in the message.
func errorField(ev *event.Event) (key, text string) {
	if len(ev.Fields) == 0 {
		return "", ""
	}
	switch ev.Source {
	case event.SourceJSON, event.SourceLogfmt, event.SourceLogrus:
		for _, k := range [...]string{"error", "err"} {
			if f, ok := ev.Fields.Get(k); ok && f.Kind == event.KindString && f.Str != "" {
				return k, f.Str
			}
		}
	}
	return "", ""
}

// listHit remembers troubleWord's answer for one word list, by its first element.
type listHit struct {
	first *string
	hit   bool
}

// in reports whether the row's trouble words stand in the event's message, with one of
// its context spellings in the message or the process name when it has some: a "p11-kit:
// ..." or "pkcs11-tool[12]: ..." line names its context in the head.
func (ts *troubleScan) in(r *Rule) bool {
	if !ts.quietDone {
		ts.quietDone = true
		ts.quiet = strings.Contains(ts.ev.Message, "Deasserted") || stackFrame(ts.ev.Message)
		ts.boot = booting(ts.ev)
	}
	if ts.quiet || (ts.boot && !r.floorEntry.Boot) {
		// an IPMI condition that ended ("PS1 FAIL ... Deasserted"); a frame of a stack
		// trace, which names functions ("at Error (native)"), not events; probing at boot
		return false
	}
	if !ts.words(r.Match.ContainsAny) {
		return false
	}
	f := r.floorEntry
	if len(f.With) == 0 && len(f.Unless) == 0 {
		return true
	}
	lower := ts.lowerText()
	for _, w := range f.unlessBytes {
		if bytes.Contains(lower, w) {
			return false
		}
	}
	if len(f.With) == 0 {
		return true
	}
	for _, w := range f.withBytes {
		if bytes.Contains(lower, w) {
			return true
		}
	}
	return false
}

// lowerText returns "message\nprocess" in lower case, built on first use.
func (ts *troubleScan) lowerText() []byte {
	if !ts.lowerReady {
		ts.lowerReady = true
		ts.lower = appendLower(ts.lower[:0], ts.text())
		ts.lower = append(ts.lower, '\n')
		ts.lower = appendLower(ts.lower, ts.ev.Process)
	}
	return ts.lower
}

// words is troubleWord(message, list), asked once per list and event.
func (ts *troubleScan) words(list []string) bool {
	if len(list) == 0 {
		return false
	}
	for k := 0; k < ts.nlists; k++ {
		if ts.lists[k].first == &list[0] {
			return ts.lists[k].hit
		}
	}
	hit := troubleWord(ts.text(), list)
	if ts.nlists < len(ts.lists) {
		ts.lists[ts.nlists] = listHit{first: &list[0], hit: hit}
		ts.nlists++
	}
	return hit
}

// appendLower appends s in lower case (ASCII letters).
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// stackFrame reports whether msg is one frame of a stack trace, a continuation line of
// the exception reported before it: Java's and JavaScript's "at name(file:line)", Python's
// "File \"x.py\", line 12, in f", a kernel call trace's "name+0x15c/0x33b" (with "?" before
// an unreliable one).
func stackFrame(msg string) bool {
	msg = strings.TrimLeft(msg, " \t")
	switch {
	case strings.HasPrefix(msg, "at ") && strings.IndexByte(msg, '(') > 3:
		return true
	case strings.HasPrefix(msg, `File "`) && strings.Contains(msg, `", line `):
		return true
	}
	return kernelFrame(strings.TrimPrefix(msg, "? "))
}

// kernelFrame reports whether msg starts with a kernel call trace's frame,
// "symbol+0xoffset/0xsize".
func kernelFrame(msg string) bool {
	i := 0
	for i < len(msg) && (isWordByte(msg[i]) || msg[i] == '.') {
		i++
	}
	if i == 0 || !strings.HasPrefix(msg[i:], "+0x") {
		return false
	}
	j := strings.IndexByte(msg[i:], '/')
	return j > 3 && strings.HasPrefix(msg[i+j:], "/0x")
}

// bootWindow is how long after boot a kernel line is taken as the probing of devices.
const bootWindow = 20 // seconds: the kernel and udev have probed the devices by then on a server

// booting reports whether ev is a kernel line of the first seconds after boot (dmesg's
// uptime stamp below bootWindow): drivers probe every device and port there and say
// "failed", "can't" and "error" of hardware that is absent or optional ("vesafb: probe
// failed", "can't derive routing for PCI INT A"). Only rows marked boot: true (errors of
// hardware that is there, crashes) count then; specific rules count as ever.
func booting(ev *event.Event) bool {
	if ev.Source != event.SourceKernel {
		return false
	}
	f, ok := ev.Fields.Get("uptime_s")
	return ok && f.Kind == event.KindFloat && f.Float < bootWindow
}

// negated reports whether one of the three words before a word, within its clause,
// negates it or counts zero: "no errors", "0 failed", "does no longer report errors",
// "was not lost". A participle between them takes the negation for itself: in "operation
// not supported error" it is the support that is denied, and the error stands.
func negated(before string) bool {
	j := len(before)
	for n := 0; n < 3; n++ {
		for j > 0 && before[j-1] == ' ' {
			j--
		}
		end := j
		for j > 0 && isWordByte(before[j-1]) {
			j--
		}
		if j == end {
			return false // punctuation ends the clause
		}
		switch w := before[j:end]; w {
		case "no", "No", "NO", "not", "Not", "NOT", "without", "Without", "0", "zero", "never", "nothing", "No_":
			return true
		default:
			if len(w) > 4 && w[len(w)-2:] == "ed" {
				return false
			}
		}
	}
	return false
}

// numbered reports whether the "0" just before word numbers a thing rather than counts
// none: it follows a name ("Fan 0 Fault ON", "PSU 0 failure") and the word is a noun,
// which a count of zero would put in the plural ("0 faults"); "0 failed" still counts none.
func numbered(before, word string) bool {
	if !strings.HasSuffix(before, " 0 ") || !isNoun(word) {
		return false
	}
	name := before[:len(before)-3]
	k := len(name)
	for k > 0 && isWordByte(name[k-1]) {
		k--
	}
	if k == len(name) || name[k] >= '0' && name[k] <= '9' {
		return false
	}
	switch strings.ToLower(name[k:]) {
	case "with", "had", "has", "have", "found", "and", "or", "of", "are", "were", "is", "was",
		"got", "after", "returned", "reported", "detected", "encountered", "total":
		return false // "with 0 error": a count after all
	}
	return true
}

// isNoun reports whether a trouble word (or a quiet phrase: "Fault OFF") starts with one
// of the nouns among them.
func isNoun(word string) bool {
	if i := strings.IndexByte(word, ' '); i > 0 {
		word = word[:i]
	}
	switch strings.ToLower(word) {
	case "error", "failure", "fault", "timeout":
		return true
	}
	return false
}

// key reports whether the text after a word makes it a key ("errors=1", "failed = 0",
// "\"error\"=x"): a count or a setting, not a statement.
func key(after string) bool {
	after = strings.TrimLeft(strings.TrimPrefix(after, "\""), " ")
	return after != "" && after[0] == '='
}
