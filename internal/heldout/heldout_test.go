package heldout

import (
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// enforceTargets makes TestHeldOutTargets fail when the shipped catalog misses a target
// of issue 13, point 5 (90 % / 60 % / 5 %). It is off while the catalog does not meet
// them (the figures are logged; go test ./internal/heldout -heldout.targets=true fails on
// them); TestHeldOutNoRegression holds what has been reached.
const enforceTargets = false

// set is one held-out file and what the shipped catalog has reached on it: a change that
// classifies fewer of its serious lines, or raises more of its routine ones, fails
// TestHeldOutNoRegression. Raise reached when the catalog improves, never to fit a
// regression.
type set struct {
	file    string
	reached Figures
}

// sets are the held-out files (Files, seen from this package's folder) with their reached
// figures.
func sets() []set {
	// Every set but the newest has been read by now; the figures held below are the
	// ones reached after the session of 2026-12-07 that read lines3.tsv to lines6.tsv
	// (testdata/heldout/README.md), each comment giving how the set was measured first.
	return []set{
		// lines.tsv: ratcheted after the floor's trouble words (floor.trouble,
		// floor.trouble.hardware, floor.trouble.hsm): 97/104 serious to warning+, 80/104 to
		// major+, 9/189 routine raised; the routine bound is the target itself (5 %).
		// 93/104 to major+ after the rounds from lines18.tsv to lines20.tsv (2026-12-08).
		{"../../" + Files()[0], Figures{Serious: 104, SeriousWarn: 100, SeriousMajor: 93, Routine: 1000, RoutineRaised: 50}},
		// lines2.tsv, gathered apart from the rule writers: first measure 45/97, 41/97,
		// 5/156; 50/94, 45/94, 6/156 after the second round of packs written without
		// seeing it. The trouble words, designed before it was looked at, first measured
		// 78/94, 45/94, 14/156 on it; the set was then read (it is no longer blind: see
		// testdata/heldout/README.md) and the general mechanisms it showed missing were
		// added: 87/94, 61/94, 11/156; 87/94, 71/94, 11/156 with floor.trouble.hsm. Its
		// routine bound is that 11/156 (7.1 %), above the 5 % target: the price of the
		// trouble words on it, recorded rather than hidden.
		// 83/94 to major+ after the round from lines25.tsv (2026-12-08).
		{"../../" + Files()[1], Figures{Serious: 94, SeriousWarn: 88, SeriousMajor: 83, Routine: 156, RoutineRaised: 8}},
		// lines3.tsv, the third set, gathered by a helper that never opened the catalog and
		// kept blind since: nobody has read which of its lines the catalog misses. First
		// measure, with the trouble words: 81/100 serious to warning+, 49/100 to major+,
		// 12/137 routine raised (the catalog before them: 47/100, 44/100, 6/137); 81/100,
		// 56/100, 12/137 with floor.trouble.hsm, measured once, for its aggregate. Two
		// serious lines left the set before it was measured: a pack writer had found them
		// in the same public threads and made them rule examples (TestHeldOutApart).
		{"../../" + Files()[2], Figures{Serious: 100, SeriousWarn: 90, SeriousMajor: 83, Routine: 137, RoutineRaised: 10}},
		// lines4.tsv, the fourth set, gathered like the third, measured blind for its
		// aggregate: 52/71 serious to warning+, 40/71 to major+, 13/149 routine raised (the
		// catalog of 5b3dc4c, before the floor's first-level, capitals, keys, device and
		// crash readings: 52/71, 33/71, 13/149). Three lines left it first: their messages
		// are examples of rules written earlier from other sources (TestHeldOutApart).
		// It was read afterwards (not blind since; testdata/heldout/README.md) and the
		// mechanisms and packs its misses showed were added: 68/71, 61/71, 12/149.
		// 62/71 to major+ after the round from lines25.tsv (2026-12-08).
		{"../../" + Files()[3], Figures{Serious: 71, SeriousWarn: 68, SeriousMajor: 62, Routine: 149, RoutineRaised: 12}},
		// lines5.tsv, the fifth set, gathered like the third while lines4.tsv was read, and
		// measured blind, for its aggregate, after that: 55/77 serious to warning+, 30/77 to
		// major+, 10/130 routine raised (the catalog of 5b3dc4c: 52/77, 26/77, 10/130). One
		// line left it first: its message is a rule's example (TestHeldOutApart).
		// It was read afterwards; the mechanisms and packs its misses showed were added:
		// 67/77, 52/77, 9/130.
		// 10/130 routine since corosync's "Members left" is a warning (ha.corosync.member-left):
		// this set's labeller called one such line routine, lines7.tsv's a serious one.
		// 68/77, 54/77 after the round from lines18.tsv and lines19.tsv.
		// 69/77 and 55/77 after the rounds from lines18.tsv to lines20.tsv (2026-12-08).
		{"../../" + Files()[4], Figures{Serious: 77, SeriousWarn: 69, SeriousMajor: 55, Routine: 130, RoutineRaised: 10}},
		// lines6.tsv, the sixth set, gathered like the third while lines5.tsv was read, and
		// measured blind, for its aggregate, after that: 58/75 serious to warning+, 36/75
		// to major+, 1/137 routine raised (the catalog of 5b3dc4c: 56/75, 26/75, 2/137; of
		// 41d4274, before the packs from lines5.tsv: 57/75, 36/75, 1/137). Three serious
		// lines left it first: their messages are rule examples (TestHeldOutApart).
		// Read afterwards: 70/75, 57/75, 2/137 (a GLib "WARNING **" debug trace now reads
		// as the warning its sender wrote). 61/75 to major+ after the round from lines18.tsv
		// and lines19.tsv.
		{"../../" + Files()[5], Figures{Serious: 75, SeriousWarn: 70, SeriousMajor: 61, Routine: 137, RoutineRaised: 2}},
		// lines7.tsv, the seventh set, gathered like the third while lines6.tsv was read,
		// measured blind for its aggregate after that: 59/75 serious to warning+, 47/75 to
		// major+, 2/126 routine raised (the catalog of 5b3dc4c: 61/75, 27/75, 2/126). The two
		// serious lines the session's catalog lost against 5b3dc4c were then looked at, and
		// only those: file-system journal errors at 4 s of uptime, which the boot window
		// silenced; storage and file-system contexts count at boot since
		// (floor.trouble.storage): 61/75, 49/75, 2/126. One line left it first (its message
		// is a rule's example). It was read whole afterwards: 75/75, 67/75, 1/126.
		// 2/126 routine since OpenWrt's logread lines are parsed (internal/parse/ctime.go):
		// a "daemon.err upsd: listening on ..." now carries the err its sender wrote.
		{"../../" + Files()[6], Figures{Serious: 75, SeriousWarn: 75, SeriousMajor: 70, Routine: 126, RoutineRaised: 2}},
		// lines8.tsv, the eighth set, gathered like the third while lines7.tsv was read,
		// measured blind, for its aggregate, after that: 63/74 serious to warning+, 47/74
		// to major+, 10/120 routine raised (the catalog of 5b3dc4c: 60/74, 37/74, 10/120).
		// Two lines left it first (their messages are rule examples). Read afterwards:
		// 72/74, 64/74, 7/120. 9/120 routine since dmesg --raw's "<4>[...]" is parsed: two
		// register-dump lines of a crash report carry the warning the kernel wrote; 10/120
		// since PostgreSQL's own level is read (floor.go, postgres): a client's FATAL
		// "database ... does not exist" is a warning.
		{"../../" + Files()[7], Figures{Serious: 74, SeriousWarn: 72, SeriousMajor: 64, Routine: 120, RoutineRaised: 10}},
		// lines9.tsv, the ninth set, gathered like the third while lines8.tsv was read,
		// measured blind, for its aggregate, after that: 59/76 serious to warning+, 39/76
		// to major+, 10/123 routine raised (the catalog of 5b3dc4c: 59/76, 28/76, 10/123).
		// Two lines left it first (their messages are rule examples). Read afterwards,
		// with lines10.tsv: 66/76, 49/76, 9/123; 8/123 after the round from lines11.tsv;
		// 68/76, 51/76 after the round from lines13.tsv (an unparsed line's Cisco mnemonic);
		// 68/76, 53/76 after the round from lines14.tsv.
		// 54/76 to major+ after the round from lines25.tsv (2026-12-08).
		{"../../" + Files()[8], Figures{Serious: 76, SeriousWarn: 68, SeriousMajor: 54, Routine: 123, RoutineRaised: 8}},
		// lines10.tsv, the tenth set, gathered like the third while nothing was read,
		// measured blind, for its aggregate, with the catalog of b9cc369: 63/86 serious to
		// warning+, 43/86 to major+, 4/142 routine raised (the catalog of 5b3dc4c: 56/86,
		// 27/86, 5/142). No line left it. Read afterwards, with lines9.tsv: 70/86, 63/86,
		// 4/142. 5/142 since PostgreSQL's own level is read: a FATAL "the database system
		// is starting up" is a warning. 71/86, 64/86, 6/142 since an unparsed line's Cisco
		// mnemonic is read: a wireless controller's "%NIM-3-ADMIN_MODE_DISABLE" says err.
		// 72/86 serious to warning+ after the round from lines18.tsv and lines19.tsv.
		// 73/86 and 65/86 after the rounds from lines18.tsv to lines20.tsv (2026-12-08).
		{"../../" + Files()[9], Figures{Serious: 86, SeriousWarn: 73, SeriousMajor: 65, Routine: 142, RoutineRaised: 6}},
		// lines11.tsv, the eleventh set, gathered like the third while lines9.tsv and
		// lines10.tsv were read, measured blind, for its aggregate, after that: 56/87 serious
		// to warning+, 34/87 to major+, 7/138 routine raised (the catalog of b9cc369, before
		// that round: 54/87, 32/87, 7/138; of 5b3dc4c: 50/87, 21/87, 6/138). One routine line
		// left it (its message is a rule's example; the first aggregate, taken before
		// TestHeldOutApart saw the set, counted it: 8/139). Read afterwards: 74/87, 55/87,
		// 1/138.
		// 56/87 to major+ after the round from lines25.tsv (2026-12-08).
		{"../../" + Files()[10], Figures{Serious: 87, SeriousWarn: 74, SeriousMajor: 56, Routine: 138, RoutineRaised: 1}},
		// lines12.tsv, the twelfth set, gathered like the third after lines11.tsv was
		// measured and before it was read, measured blind, for its aggregate, with the catalog of 2f17a6c (after
		// the round from lines9.tsv and lines10.tsv): 63/80 serious to warning+, 44/80 to
		// major+, 9/146 routine raised (b9cc369: 62/80, 42/80, 8/146; 5b3dc4c: 61/80, 30/80,
		// 9/146). Five lines left it first (their messages are rule examples). Measured
		// again, for its aggregate, after the round from lines11.tsv: the same. Read
		// afterwards: 73/80, 63/80, 4/146.
		{"../../" + Files()[11], Figures{Serious: 80, SeriousWarn: 73, SeriousMajor: 63, Routine: 146, RoutineRaised: 4}},
		// lines13.tsv, the thirteenth set, gathered like the third while lines11.tsv was
		// read, measured blind, for its aggregate, with the catalog of c3bce79 (after the
		// round from lines11.tsv): 67/88 serious to warning+, 51/88 to major+, 22/146
		// routine raised (b9cc369: 62/88, 43/88, 23/146; 5b3dc4c: 50/88, 24/88, 23/146). No
		// line left it. Measured again, for its aggregate, after the round from
		// lines12.tsv: 69/88, 53/88, 22/146. Read afterwards: 79/88, 69/88, 13/146; 81/88,
		// 71/88 after the round from lines14.tsv; 72/88 since a JSON record's error field
		// is read.
		{"../../" + Files()[12], Figures{Serious: 88, SeriousWarn: 81, SeriousMajor: 72, Routine: 146, RoutineRaised: 13}},
		// lines14.tsv, the fourteenth set, gathered like the third while lines13.tsv was
		// unread, measured for its aggregate with the catalog of 0bad560 (before the round
		// from lines13.tsv): 31/47 serious to warning+, 26/47 to major+, 20/96 routine raised
		// (b9cc369: 27/47, 22/47, 21/96; 5b3dc4c: 22/47, 16/47, 21/96). No line left it. That
		// first measure printed the tail of the routine lines raised, and four of them were
		// seen (testdata/heldout/README.md says which kind); no rule was written from them.
		// Measured again, for its aggregate, after the round from lines13.tsv: 35/47, 31/47,
		// 12/96. Read afterwards: 42/47, 36/47, 9/96; 8/96 after the round from lines15.tsv.
		// 43/47 and 37/47 after the rounds from lines18.tsv to lines20.tsv (2026-12-08).
		{"../../" + Files()[13], Figures{Serious: 47, SeriousWarn: 43, SeriousMajor: 37, Routine: 96, RoutineRaised: 8}},
		// lines15.tsv, the fifteenth set, gathered like the third while lines14.tsv was
		// unread, measured blind, for its aggregate, with the catalog of 74bab0b (after the
		// round from lines13.tsv): 30/42 serious to warning+, 20/42 to major+, 2/101 routine
		// raised (0bad560, before that round: the same; b9cc369: 29/42, 17/42, 2/101;
		// 5b3dc4c: 28/42, 13/42, 2/101). No line left it. Measured again, for its
		// aggregate, after the round from lines14.tsv: the same. Read afterwards: 38/42,
		// 33/42, 1/101.
		{"../../" + Files()[14], Figures{Serious: 42, SeriousWarn: 38, SeriousMajor: 33, Routine: 101, RoutineRaised: 1}},
		// lines16.tsv, the sixteenth set, gathered like the third while lines15.tsv was
		// unread, measured blind, for its aggregate, with the catalog of 8cca5c5 (after the
		// rounds from lines13.tsv and lines14.tsv): 32/45 serious to warning+, 21/45 to
		// major+, 4/91 routine raised (0bad560, before both rounds: 32/45, 20/45, 4/91;
		// b9cc369: 31/45, 19/45, 4/91; 5b3dc4c: 28/45, 12/45, 4/91). No line left it.
		// Measured again, for its aggregate, after the round from lines15.tsv: the same.
		// Read afterwards: 38/45, 30/45, 4/91.
		// 41/45 and 33/45 after the rounds from lines18.tsv to lines20.tsv (2026-12-08).
		{"../../" + Files()[15], Figures{Serious: 45, SeriousWarn: 41, SeriousMajor: 33, Routine: 91, RoutineRaised: 4}},
		// lines17.tsv, the seventeenth set, gathered like the third while lines16.tsv was
		// read, measured blind, for its aggregate, with the catalog of ae5efae (after the
		// session's rounds from lines13.tsv to lines16.tsv): 34/41 serious to warning+, 25/41
		// to major+, 4/98 routine raised (0bad560, before those rounds: 30/41, 22/41, 7/98;
		// b9cc369: 29/41, 16/41, 4/98; 5b3dc4c: 28/41, 12/41, 6/98). No line left it. Read
		// afterwards: 35/41, 30/41, 1/98.
		{"../../" + Files()[16], Figures{Serious: 41, SeriousWarn: 35, SeriousMajor: 30, Routine: 98, RoutineRaised: 1}},
		// lines18.tsv, the eighteenth set, gathered like the third while lines17.tsv was
		// unread, measured blind, for its aggregate, with the catalog of beb0da8: 31/41
		// serious to warning+, 21/41 to major+, 1/92 routine raised (0bad560: the same;
		// 5b3dc4c: 27/41, 12/41, 1/92). Measured again, for its aggregate, after the round
		// from lines17.tsv: the same. Read in the sixth session (after lines20.tsv was
		// measured): 39/41, 36/41, 1/92 after the round from it and lines19.tsv.
		{"../../" + Files()[17], Figures{Serious: 41, SeriousWarn: 39, SeriousMajor: 36, Routine: 92, RoutineRaised: 1}},
		// lines19.tsv, the nineteenth set, gathered like the third while lines17.tsv was
		// read and lines18.tsv unread, measured blind, for its aggregate, with the catalog of
		// 0fd0f6c (after the round from lines17.tsv): 37/43 serious to warning+, 33/43 to
		// major+, 2/92 routine raised (beb0da8, before that round: the same; 5b3dc4c: 29/43,
		// 22/43, 3/92). Read in the sixth session: 43/43, 42/43, 2/92 after the round from
		// it and lines18.tsv.
		{"../../" + Files()[18], Figures{Serious: 43, SeriousWarn: 43, SeriousMajor: 42, Routine: 92, RoutineRaised: 2}},
		// lines20.tsv, the twentieth set, gathered like the third while lines18.tsv and
		// lines19.tsv were unread, measured blind, for its aggregate, with the catalog of
		// 72b6938 (the sixth session's start): 27/44 serious to warning+, 20/44 to major+,
		// 6/122 routine raised (5b3dc4c: 25/44, 16/44, 5/122). No line left it. Read in the
		// same session after lines21.tsv was measured: 43/44, 38/44, 6/122 after the round
		// from it.
		{"../../" + Files()[19], Figures{Serious: 44, SeriousWarn: 43, SeriousMajor: 38, Routine: 122, RoutineRaised: 6}},
		// lines21.tsv, the twenty-first set, gathered like the third while lines18.tsv and
		// lines19.tsv were read and lines20.tsv unread, measured blind, for its aggregate,
		// with the catalog of a650775 (after the round from lines18.tsv and lines19.tsv):
		// 38/41 serious to warning+, 35/41 to major+, 1/93 routine raised (72b6938, before
		// that round: the same; 5b3dc4c: 23/41, 21/41, 1/93). 31 of its 41 serious lines are
		// syzkaller's kernel crash reports. No line left it. Read in the same session with
		// lines23.tsv: 41/41, 36/41, 1/93 after the round from them.
		{"../../" + Files()[20], Figures{Serious: 41, SeriousWarn: 41, SeriousMajor: 36, Routine: 93, RoutineRaised: 1}},
		// lines22.tsv, the twenty-second set, gathered like the third while lines20.tsv was
		// read (from real incidents, no parser test samples), measured blind, for its
		// aggregate, with the catalog of 7310a76 (after the rounds from lines18.tsv to
		// lines20.tsv): 40/43 serious to warning+, 25/43 to major+, 3/99 routine raised
		// (a650775 and 72b6938, before them: the same; 5b3dc4c: 39/43, 19/43, 3/99). No line
		// left it. Unread.
		// Read in the same session after lines23.tsv was gathered: 41/43, 29/43, 3/99 after
		// the round from it.
		{"../../" + Files()[21], Figures{Serious: 43, SeriousWarn: 41, SeriousMajor: 29, Routine: 99, RoutineRaised: 3}},
		// lines23.tsv, the twenty-third set, gathered like the third while lines22.tsv was
		// read, measured blind, for its aggregate, with the catalog of e280cd1 (after the
		// round from lines22.tsv): 36/42 serious to warning+, 32/42 to major+, 4/94 routine
		// raised (7310a76, before that round, and 72b6938: 33/42, 29/42, 4/94; 5b3dc4c:
		// 31/42, 21/42, 5/94). No line left it.
		// Read in the same session after lines24.tsv was gathered: 39/42, 37/42, 1/94 after
		// the round from it.
		{"../../" + Files()[22], Figures{Serious: 42, SeriousWarn: 39, SeriousMajor: 37, Routine: 94, RoutineRaised: 1}},
		// lines24.tsv, the twenty-fourth set, gathered like the third while lines23.tsv was
		// read, measured blind, for its aggregate, with the catalog of c4c23ce (after the
		// round from lines23.tsv): 36/41 serious to warning+, 24/41 to major+, 7/95 routine
		// raised (e280cd1 and 7310a76: the same; a650775 and 72b6938: 33/41, 26/41, 7/95;
		// 5b3dc4c: 32/41, 21/41, 6/95). No line left it. Read in the same session after
		// lines25.tsv was gathered: 38/41, 35/41, 3/95 after the round from it.
		{"../../" + Files()[23], Figures{Serious: 41, SeriousWarn: 38, SeriousMajor: 35, Routine: 95, RoutineRaised: 3}},
		// lines25.tsv, the twenty-fifth set, gathered like the third (by two helpers in turn,
		// the second completing the first's 47 lines) while lines24.tsv was read, measured
		// blind, for its aggregate, with the catalog of 28bb2c4 (after the round from
		// lines24.tsv): 40/44 serious to warning+, 31/44 to major+, 2/95 routine raised
		// (c4c23ce, before that round: the same; 72b6938: 40/44, 29/44, 3/95; 5b3dc4c: 37/44,
		// 19/44, 4/95). No line left it. Read in the same session after lines26.tsv was
		// gathered: 43/44, 40/44, 0/95 after the round from it.
		{"../../" + Files()[24], Figures{Serious: 44, SeriousWarn: 43, SeriousMajor: 40, Routine: 95, RoutineRaised: 0}},
		// lines26.tsv, the twenty-sixth set, gathered like the third while lines25.tsv was
		// read, measured blind, for its aggregate, with the catalog of 2768db3 (after the
		// round from lines25.tsv): 34/41 serious to warning+, 27/41 to major+, 0/92 routine
		// raised (28bb2c4, before that round: 33/41, 26/41, 0/92; 72b6938: 32/41, 24/41,
		// 1/92; 5b3dc4c: 32/41, 21/41, 1/92). No line left it. Read in the same session
		// after lines27.tsv was gathered: 38/41, 34/41, 0/92 after the round from it.
		{"../../" + Files()[25], Figures{Serious: 41, SeriousWarn: 38, SeriousMajor: 34, Routine: 92, RoutineRaised: 0}},
		// lines27.tsv, the twenty-seventh set, gathered like the third while lines26.tsv was
		// read, measured blind, for its aggregate, with the catalog of 302968d (after the
		// round from lines26.tsv): 41/43 serious to warning+, 34/43 to major+, 2/100 routine
		// raised (b5401fd, before that round: the same; 72b6938: 40/43, 30/43, 2/100;
		// 5b3dc4c: 32/43, 14/43, 0/100). No line left it. Unread.
		{"../../" + Files()[26], Figures{Serious: 43, SeriousWarn: 41, SeriousMajor: 34, Routine: 100, RoutineRaised: 2}},
	}
}

var targets = flag.Bool("heldout.targets", enforceTargets, "fail when the held-out targets are missed")

func load(t *testing.T, file string) []Line {
	t.Helper()
	lines, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func catalog(t *testing.T) *classify.Catalog {
	t.Helper()
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestHeldOutFile checks the files themselves: enough lines of each kind to measure with,
// no line repeated within a set, and no line of one set in another (each set measures
// lines the others do not).
func TestHeldOutFile(t *testing.T) {
	if len(sets()) != len(Files()) {
		t.Fatalf("%d sets with reached figures for %d files", len(sets()), len(Files()))
	}
	inSet := map[string]string{}
	for _, st := range sets() {
		lines := load(t, st.file)
		var serious, routine int
		seen := map[string]int{}
		for _, l := range lines {
			if l.Serious() {
				serious++
			}
			if l.Routine() {
				routine++
			}
			if n, dup := seen[l.Text]; dup {
				t.Errorf("%s: line %d repeats line %d", st.file, l.N, n)
			}
			seen[l.Text] = l.N
			if other, ok := inSet[strings.TrimSpace(l.Text)]; ok {
				t.Errorf("%s: line %d is also in %s", st.file, l.N, other)
			}
		}
		for text := range seen {
			inSet[strings.TrimSpace(text)] = st.file
		}
		// At least 40 serious and 90 routine lines, so that one line moves a figure by no
		// more than 2.5 %; the first sets hold 70 and 120 and more, the fourteenth less (its
		// helper found most public threads of hardware and HSM faults already cited).
		if len(lines) < 150 || serious < 40 || routine < 90 {
			t.Errorf("%s: %d lines, %d serious, %d routine: want at least 150, 40 and 90", st.file, len(lines), serious, routine)
		}
	}
}

// TestHeldOutApart fails when a held-out line of any set is also a rule example, verbatim
// or by its message: the held-out sets must stay apart from the lines rules are written
// from.
func TestHeldOutApart(t *testing.T) {
	cat := catalog(t)
	for _, st := range sets() {
		for _, leak := range Leaks(load(t, st.file), cat) {
			t.Errorf("%s: %s", st.file, leak)
		}
	}
}

// measure classifies every line of every set with cat, as "hsmwatch scan" does, and
// returns the figures of each set, in the order of sets().
func measure(t *testing.T, cat *classify.Catalog) []Figures {
	t.Helper()
	var figs []Figures
	for _, st := range sets() {
		res, err := Classify(context.Background(), load(t, st.file), cat)
		if err != nil {
			t.Fatalf("%s: %v", st.file, err)
		}
		figs = append(figs, Measure(res))
	}
	return figs
}

// TestHeldOutTargets classifies every held-out line with the shipped catalog, as
// "hsmwatch scan" does, and checks the figures of each set and of all sets together
// against the targets.
func TestHeldOutTargets(t *testing.T) {
	figs := measure(t, catalog(t))
	var all Figures
	var missed []string
	check := func(name string, f Figures) {
		t.Logf("%s: serious lines raised to warning+: %d/%d = %.1f %% (target >= %.0f %%)",
			name, f.SeriousWarn, f.Serious, 100*f.SeriousWarnShare(), 100*SeriousWarnTarget)
		t.Logf("%s: serious lines raised to major+:   %d/%d = %.1f %% (target >= %.0f %%)",
			name, f.SeriousMajor, f.Serious, 100*f.SeriousMajorShare(), 100*SeriousMajorTarget)
		t.Logf("%s: routine lines raised to warning+: %d/%d = %.1f %% (target <= %.0f %%)",
			name, f.RoutineRaised, f.Routine, 100*f.RoutineRaisedShare(), 100*RoutineRaisedMax)
		for _, m := range f.Misses() {
			missed = append(missed, name+": "+m)
		}
	}
	for i, st := range sets() {
		check(st.file, figs[i])
		all = all.Add(figs[i])
	}
	check("all sets", all)
	if len(missed) == 0 {
		return
	}
	msg := "held-out targets missed (go run ./bench/heldout lists the lines):\n  " + strings.Join(missed, "\n  ")
	if *targets {
		t.Error(msg)
	} else {
		t.Log(msg)
	}
}

// TestHeldOutNoRegression fails when the shares of a set fall below what was reached on it.
func TestHeldOutNoRegression(t *testing.T) {
	figs := measure(t, catalog(t))
	for i, st := range sets() {
		f, reached := figs[i], st.reached
		if f.SeriousWarnShare() < reached.SeriousWarnShare() || f.SeriousMajorShare() < reached.SeriousMajorShare() ||
			f.RoutineRaisedShare() > reached.RoutineRaisedShare() {
			t.Errorf("%s: held-out figures regressed: serious raised %.1f %% (reached %.1f %%), to major+ %.1f %% (reached %.1f %%), routine raised %.1f %% (at most %.1f %%)",
				st.file, 100*f.SeriousWarnShare(), 100*reached.SeriousWarnShare(), 100*f.SeriousMajorShare(), 100*reached.SeriousMajorShare(),
				100*f.RoutineRaisedShare(), 100*reached.RoutineRaisedShare())
		}
	}
}

func TestMeasure(t *testing.T) {
	r := func(label, level string) Result { return Result{Line: Line{Label: label}, Level: level} }
	f := Measure([]Result{
		r("critical", "critical"), r("major", "warning"), r("major", ""), r("critical", "major"),
		r("minor", "info"), r("warning", "critical"),
		r("info", ""), r("info", "warning"), r("debug", "debug"), r("info", "info"),
	})
	want := Figures{Serious: 4, SeriousWarn: 3, SeriousMajor: 2, Routine: 4, RoutineRaised: 1}
	if f != want {
		t.Fatalf("got %+v, want %+v", f, want)
	}
	// 75 % < 90 %, 50 % < 60 %, 25 % > 5 %: all three targets missed.
	if got := f.Misses(); len(got) != 3 {
		t.Errorf("misses: %q, want 3", got)
	}
	// Two sets measured together: the counts add up, the shares are of the sum.
	g := Figures{Serious: 6, SeriousWarn: 6, SeriousMajor: 6, Routine: 16, RoutineRaised: 0}
	both := f.Add(g)
	if want := (Figures{Serious: 10, SeriousWarn: 9, SeriousMajor: 8, Routine: 20, RoutineRaised: 1}); both != want {
		t.Fatalf("add: got %+v, want %+v", both, want)
	}
	if both.SeriousWarnShare() != 0.9 || both.SeriousMajorShare() != 0.8 || both.RoutineRaisedShare() != 0.05 {
		t.Errorf("shares of the sum: %v %v %v", both.SeriousWarnShare(), both.SeriousMajorShare(), both.RoutineRaisedShare())
	}
	if got := both.Misses(); len(got) != 0 {
		t.Errorf("misses of the sum: %q, want none (90 %%, 80 %%, 5 %% meet the targets)", got)
	}
}

func TestRead(t *testing.T) {
	in := "# comment\n\nmajor\tsome doc\tJan  1 00:00:00 host kernel: x\n"
	lines, err := Read(strings.NewReader(in), "t")
	if err != nil || len(lines) != 1 || lines[0].N != 3 || lines[0].Label != "major" {
		t.Fatalf("got %+v, %v", lines, err)
	}
	for _, bad := range []string{"severe\tsrc\tline\n", "major\t\tline\n", "major\tline\n"} {
		if _, err := Read(strings.NewReader(bad), "t"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestClassifyLikeScan checks the measuring path itself: a rule's own example line, run
// through Classify, gets that rule and its level. A figure of 0 % must mean the catalog
// misses the held-out lines, not that the lines never reached it.
func TestClassifyLikeScan(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	var lines []Line
	var want []*classify.Rule
	for _, r := range cat.Rules() {
		if len(r.Examples) > 0 && len(lines) < 50 {
			lines = append(lines, Line{N: len(lines) + 1, Label: r.Level, Source: "catalog", Text: r.Examples[0].Line})
			want = append(want, r)
		}
	}
	res, err := Classify(context.Background(), lines, cat)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Rule != want[i].ID || r.Level != want[i].Level {
			t.Errorf("%s: got rule %q level %q, want %s %s", r.Text, r.Rule, r.Level, want[i].ID, want[i].Level)
		}
	}
}

// TestLeaksDetects checks that the apartness check finds a rule example, verbatim and by
// its message under another header.
func TestLeaksDetects(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	var ex string
	for _, r := range cat.Rules() {
		for _, e := range r.Examples {
			if strings.HasPrefix(e.Line, "2012 Feb 29 12:05:01 ") && strings.Contains(e.Line, "]: ") {
				ex = e.Line
				break
			}
		}
		if ex != "" {
			break
		}
	}
	if ex == "" {
		t.Skip("no syslog-form example in the catalog")
	}
	const date = "2012 Feb 29 12:05:01 "
	host := strings.IndexByte(ex[len(date):], ' ')
	rehead := "2019 Mar 03 01:02:03 otherhost" + ex[len(date)+host:]
	for _, s := range []string{ex, rehead} {
		if leaks := Leaks([]Line{{N: 1, Label: "info", Source: "t", Text: s}}, cat); len(leaks) != 1 {
			t.Errorf("%q: %d leaks found, want 1", s, len(leaks))
		}
	}
}
