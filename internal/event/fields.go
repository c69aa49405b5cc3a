package event

import "strconv"

// Kind is the JSON type of a field value.
type Kind uint8

// Field kinds.
const (
	KindString Kind = iota
	KindInt
	KindFloat
	KindBool
)

// Field is one typed extra of an event. A slice of fields, rather than a map, keeps the
// order in which a parser found them and costs no allocation once its capacity is reached.
type Field struct {
	Key   string
	Kind  Kind
	Str   string
	Int   int64
	Float float64
}

// String returns the value as text, whatever its kind.
func (f Field) String() string {
	switch f.Kind {
	case KindInt:
		return strconv.FormatInt(f.Int, 10)
	case KindFloat:
		return strconv.FormatFloat(f.Float, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(f.Int != 0)
	default:
		return f.Str
	}
}

// Fields are the typed extras of an event, in the order they were set.
type Fields []Field

// set replaces the field named k or appends it.
func (fs *Fields) set(f Field) {
	for i := range *fs {
		if (*fs)[i].Key == f.Key {
			(*fs)[i] = f
			return
		}
	}
	*fs = append(*fs, f)
}

// SetString sets k to the string v.
func (fs *Fields) SetString(k, v string) { fs.set(Field{Key: k, Kind: KindString, Str: v}) }

// SetInt sets k to the integer v.
func (fs *Fields) SetInt(k string, v int64) { fs.set(Field{Key: k, Kind: KindInt, Int: v}) }

// SetFloat sets k to the number v.
func (fs *Fields) SetFloat(k string, v float64) { fs.set(Field{Key: k, Kind: KindFloat, Float: v}) }

// SetBool sets k to v.
func (fs *Fields) SetBool(k string, v bool) {
	var n int64
	if v {
		n = 1
	}
	fs.set(Field{Key: k, Kind: KindBool, Int: n})
}

// Get returns the field named k.
func (fs Fields) Get(k string) (Field, bool) {
	for _, f := range fs {
		if f.Key == k {
			return f, true
		}
	}
	return Field{}, false
}

// Text returns the value of k as text, or "" when it is absent.
func (fs Fields) Text(k string) string {
	f, ok := fs.Get(k)
	if !ok {
		return ""
	}
	return f.String()
}
