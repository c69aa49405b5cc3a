package agent

import (
	"math"
	"sort"
	"strings"
	"sync"
)

// MapTree is a Tree kept in OID order whose variables can be set, computed on each
// read (SetFunc), and removed while the agent serves.
//
// The variables live in one slice sorted by an order-preserving binary key (see oidKey),
// so Get and Next are binary searches (O(log n)) and a walk touches contiguous memory.
// Replacing an existing OID is O(log n); inserting a new one in the middle costs a copy
// of the slice's tail, which is cheap at the few hundred OIDs of a simulated HSM and
// free when OIDs are added in order (tables are built row by row).
type MapTree struct {
	mu      sync.RWMutex
	entries []entry
}

// entry is one OID: its key for ordering and either a fixed value or a function.
type entry struct {
	key string
	v   Var
	fn  func() Var
}

// NewMapTree returns an empty tree.
func NewMapTree() *MapTree { return &MapTree{} }

// Set stores a fixed value at v.Name (with or without the leading dot). A name that is
// not a numeric OID is ignored: the tree could never serve it.
func (t *MapTree) Set(v Var) {
	key, name, ok := parseOID(v.Name)
	if !ok {
		return
	}
	v.Name = name
	t.put(entry{key: key, v: v})
}

// SetFunc stores a value computed on every read. fn is called without the tree's lock
// held, so it may read the tree; the Name it returns is replaced by oid.
func (t *MapTree) SetFunc(oid string, fn func() Var) {
	key, name, ok := parseOID(oid)
	if !ok || fn == nil {
		return
	}
	t.put(entry{key: key, v: Var{Name: name}, fn: fn})
}

func (t *MapTree) put(e entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, found := t.search([]byte(e.key))
	if found {
		t.entries[i] = e
		return
	}
	t.entries = append(t.entries, entry{})
	copy(t.entries[i+1:], t.entries[i:])
	t.entries[i] = e
}

// Delete removes one OID.
func (t *MapTree) Delete(oid string) {
	var buf [maxKeyOnStack]byte
	key, ok := appendKey(buf[:0], oid)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, found := t.search(key); found {
		t.removeRange(i, i+1)
	}
}

// DeletePrefix removes every OID under prefix (a table's rows), and prefix itself. The
// prefix matches whole arcs: .1.3.6.1.2.1.2 does not remove .1.3.6.1.2.1.25.
func (t *MapTree) DeletePrefix(prefix string) {
	var buf [maxKeyOnStack]byte
	key, ok := appendKey(buf[:0], prefix)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// Keys are arc-wise, so every OID under prefix has key as a byte prefix and they
	// are contiguous from the prefix's own position.
	i, _ := t.search(key)
	j := i
	for j < len(t.entries) && strings.HasPrefix(t.entries[j].key, string(key)) {
		j++
	}
	t.removeRange(i, j)
}

// removeRange deletes entries [i, j) and clears the vacated tail so that the values
// and functions it held can be collected.
func (t *MapTree) removeRange(i, j int) {
	if i >= j {
		return
	}
	n := copy(t.entries[i:], t.entries[j:])
	clear(t.entries[i+n:])
	t.entries = t.entries[:i+n]
}

// Len is the number of OIDs.
func (t *MapTree) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.entries)
}

// Get implements Tree.
func (t *MapTree) Get(oid string) (Var, bool) {
	var buf [maxKeyOnStack]byte
	key, ok := appendKey(buf[:0], oid)
	if !ok {
		return Var{}, false
	}
	t.mu.RLock()
	i, found := t.search(key)
	var e entry
	if found {
		e = t.entries[i]
	}
	t.mu.RUnlock()
	if !found {
		return Var{}, false
	}
	return e.value(), true
}

// Next implements Tree. An empty or unparsable oid starts from the beginning.
func (t *MapTree) Next(oid string) (Var, bool) {
	var buf [maxKeyOnStack]byte
	key, ok := appendKey(buf[:0], oid)
	if !ok {
		key = key[:0]
	}
	t.mu.RLock()
	i, found := t.search(key)
	if found {
		i++
	}
	var e entry
	ok = i < len(t.entries)
	if ok {
		e = t.entries[i]
	}
	t.mu.RUnlock()
	if !ok {
		return Var{}, false
	}
	return e.value(), true
}

// search returns the index of key, or where it would be inserted. The key is bytes so
// that lookups need not allocate a string (comparisons with string(key) do not copy).
func (t *MapTree) search(key []byte) (int, bool) {
	i := sort.Search(len(t.entries), func(i int) bool { return t.entries[i].key >= string(key) })
	return i, i < len(t.entries) && t.entries[i].key == string(key)
}

// value returns the entry's variable, calling its function outside the lock.
func (e entry) value() Var {
	if e.fn == nil {
		return e.v
	}
	v := e.fn()
	v.Name = e.v.Name
	return v
}

// parseOID turns a dotted OID (leading dot optional) into its ordering key and its
// canonical name with a leading dot. It reports false for anything but an OID that can
// be sent: dot-separated decimal arcs that fit in 32 bits, without leading zeros (so
// that a name has one spelling), and the first two arcs BER can encode (X.690 8.19).
func parseOID(oid string) (key, name string, ok bool) {
	var buf [maxKeyOnStack]byte
	k, ok := appendKey(buf[:0], oid)
	if !ok || !berEncodable(k) || strings.Count(oid, ".") > maxArcs {
		return "", "", false
	}
	if oid[0] == '.' {
		name = oid
	} else {
		name = "." + oid
	}
	return string(k), name, true
}

// maxArcs is the most sub-identifiers an OID may have (RFC 2578 3.5).
const maxArcs = 128

// maxKeyOnStack covers the keys of all but absurdly long OIDs without a heap
// allocation on lookups.
const maxKeyOnStack = 128

// appendKey appends oid's ordering key to dst (see appendArc). Lookups call it with a
// stack buffer: it runs for every variable of every request.
func appendKey(dst []byte, oid string) ([]byte, bool) {
	s := oid
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
	}
	if s == "" {
		return dst, false
	}
	for {
		var arc uint64
		i := 0
		for ; i < len(s) && s[i] != '.'; i++ {
			c := s[i]
			if c < '0' || c > '9' || (i == 1 && s[0] == '0') {
				return dst, false
			}
			arc = arc*10 + uint64(c-'0')
			if arc > math.MaxUint32 {
				return dst, false
			}
		}
		if i == 0 {
			return dst, false
		}
		dst = appendArc(dst, uint32(arc))
		if i == len(s) {
			return dst, true
		}
		s = s[i+1:]
	}
}

// oidAfter reports whether OID a comes after OID b.
func oidAfter(a, b string) bool {
	var ba, bb [maxKeyOnStack]byte
	ka, _ := appendKey(ba[:0], a)
	kb, _ := appendKey(bb[:0], b)
	return string(ka) > string(kb)
}

// berEncodable checks an OID key for BER's rules on the first two arcs: at least two,
// the first 0, 1 or 2, and the second below 40 unless the first is 2.
func berEncodable(key []byte) bool {
	if len(key) < 2 || key[0] > 2 {
		return false
	}
	return key[0] == 2 || key[1] < 40
}

// appendArc encodes one arc so that byte-wise comparison of keys is arc-wise numeric
// comparison of OIDs: the first byte tells the length (longer means larger) and the
// rest is big-endian. No arc's encoding is a prefix of another's, so a shorter OID
// sorts before its children. Arcs below 128, nearly all of them, take one byte.
func appendArc(b []byte, v uint32) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v < 0x4000:
		return append(b, 0x80|byte(v>>8), byte(v))
	case v < 0x200000:
		return append(b, 0xC0|byte(v>>16), byte(v>>8), byte(v))
	case v < 0x10000000:
		return append(b, 0xE0|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, 0xF0, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}
