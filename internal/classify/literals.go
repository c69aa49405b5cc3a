package classify

// literalIndex finds, in one pass over a message, every rule whose anchor literal occurs
// in it: an Aho-Corasick automaton compiled to a DFA over byte classes. One table lookup
// per byte, whatever the number of rules, which is what keeps classification cost flat as
// the catalog grows.
type literalIndex struct {
	class  [256]uint8 // byte -> class; 0 for bytes that occur in no literal
	nclass int
	next   []int32   // state*nclass + class -> state
	out    [][]int32 // state -> rules whose anchor ends here (fail links folded in)
	// step is next as the scan reads it: the target's row offset (state*nclass), bitwise
	// negated when the target has outputs, so that each byte costs two loads and a sign
	// test, with no multiplication and no look at out.
	step []int32
	// pairs holds the first two bytes of every anchor (bit a<<8|b), nil when an anchor
	// is a single byte. While the automaton is in its start state, the scan skips every
	// position whose two bytes begin no anchor: a test per byte that does not depend on
	// the previous one, where a step waits for the load of the step before it. Most of a
	// message's bytes begin no anchor, so most of the walk becomes the skip.
	pairs *[1 << 16 / 64]uint64
}

func newLiteralIndex(anchors []string, rules []int32) *literalIndex {
	ix := &literalIndex{}
	for _, a := range anchors {
		for i := 0; i < len(a); i++ {
			if ix.class[a[i]] == 0 {
				ix.nclass++
				ix.class[a[i]] = uint8(ix.nclass)
			}
		}
	}
	ix.nclass++ // class 0
	ix.pairs = new([1 << 16 / 64]uint64)
	for _, a := range anchors {
		if len(a) < 2 {
			ix.pairs = nil
			break
		}
		p := uint16(a[0])<<8 | uint16(a[1])
		ix.pairs[p>>6] |= 1 << (p & 63)
	}
	ix.addState()
	for k, a := range anchors {
		s := int32(0)
		for i := 0; i < len(a); i++ {
			c := int(ix.class[a[i]])
			if ix.next[int(s)*ix.nclass+c] < 0 {
				ix.next[int(s)*ix.nclass+c] = ix.addState()
			}
			s = ix.next[int(s)*ix.nclass+c]
		}
		ix.out[s] = append(ix.out[s], rules[k])
	}
	ix.link()
	ix.step = make([]int32, len(ix.next))
	for i, t := range ix.next {
		v := t * int32(ix.nclass)
		if len(ix.out[t]) > 0 {
			v = ^v
		}
		ix.step[i] = v
	}
	ix.next = nil // only step is walked: the table is not kept twice
	return ix
}

func (ix *literalIndex) addState() int32 {
	for c := 0; c < ix.nclass; c++ {
		ix.next = append(ix.next, -1)
	}
	ix.out = append(ix.out, nil)
	return int32(len(ix.out) - 1)
}

// link computes failure links breadth first and turns the trie into a complete DFA.
func (ix *literalIndex) link() {
	n := ix.nclass
	fail := make([]int32, len(ix.out))
	queue := make([]int32, 0, len(ix.out))
	for c := 0; c < n; c++ {
		t := ix.next[c]
		if t < 0 {
			ix.next[c] = 0
			continue
		}
		fail[t] = 0
		queue = append(queue, t)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := 0; c < n; c++ {
			t := ix.next[int(s)*n+c]
			f := ix.next[int(fail[s])*n+c]
			if t < 0 {
				ix.next[int(s)*n+c] = f
				continue
			}
			fail[t] = f
			ix.out[t] = append(ix.out[t], ix.out[f]...)
			queue = append(queue, t)
		}
	}
}

// scan calls fn for each rule whose anchor occurs in s (a rule may be reported twice).
//
// In the start state (off 0) no anchor is under way, so an anchor occurrence can only
// begin at a position whose two bytes are some anchor's first two (pairs): the scan
// skips to the next such position and steps from there. When a step leads back to the
// start state, no anchor's beginning ends at that byte, so none starts there either and
// the skip resumes at the next one. The rules reported are those of the plain walk.
func (ix *literalIndex) scan(s string, fn func(rule int32)) {
	n := int32(ix.nclass)
	step, class, pairs := ix.step, &ix.class, ix.pairs
	off := int32(0)
	for i := 0; i < len(s); i++ {
		if off == 0 && pairs != nil {
			for {
				if i+1 >= len(s) {
					return // one byte left: no anchor of two bytes or more starts there
				}
				p := uint16(s[i])<<8 | uint16(s[i+1])
				if pairs[p>>6]&(1<<(p&63)) != 0 {
					break
				}
				i++
			}
		}
		v := step[off+int32(class[s[i]])]
		if v < 0 {
			v = ^v
			for _, r := range ix.out[v/n] {
				fn(r)
			}
		}
		off = v
	}
}
