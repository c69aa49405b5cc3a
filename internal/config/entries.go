package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Entries are the configured sources or sinks, in the file's order.
type Entries struct {
	List []Entry
	node *yaml.Node // the section as read; decode turns it into List
}

// Entry is one configured source or sink: its kind and its settings.
type Entry struct {
	Kind *component.Kind
	Spec component.Spec
	// Key is where it was configured ("sources.files[1]"), for messages.
	Key string
}

// ID identifies the entry across reloads: its kind and the kind's id of it.
func (e Entry) ID() string { return e.Kind.Key + ":" + e.Spec.ID() }

// UnmarshalYAML keeps the section: its entries are decoded by their kinds once the
// whole file is read (decode), so that every problem is reported with its line.
func (es *Entries) UnmarshalYAML(n *yaml.Node) error {
	es.node = n
	return nil
}

// decode reads the section's entries with the registry's kinds.
func (es *Entries) decode(file string, root *yaml.Node, role component.Role) []error {
	n := es.node
	es.node = nil
	if n == nil || n.Kind == 0 || n.Tag == "!!null" {
		return nil
	}
	at := func(line int, key, format string, args ...any) error {
		return &Error{File: file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if n.Kind != yaml.MappingNode {
		return []error{at(n.Line, string(role), "want a mapping of %s kinds (%s)", role, component.Keys(role))}
	}
	var errs []error
	seen := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i], n.Content[i+1]
		section := string(role) + "." + name.Value
		kind, ok := component.Lookup(role, name.Value)
		if !ok {
			errs = append(errs, at(name.Line, section, "unknown kind: want one of %s", component.Keys(role)))
			continue
		}
		items, keys := []*yaml.Node{val}, []string{section}
		if !kind.Single {
			if val.Tag == "!!null" {
				continue
			}
			if val.Kind != yaml.SequenceNode {
				errs = append(errs, at(val.Line, section, "want a list of entries"))
				continue
			}
			items, keys = val.Content, nil
			for j := range val.Content {
				keys = append(keys, fmt.Sprintf("%s[%d]", section, j))
			}
		}
		for j, item := range items {
			e, problems := decodeEntry(file, root, kind, keys[j], item)
			errs = append(errs, problems...)
			if e == nil {
				continue
			}
			if prev, dup := seen[e.ID()]; dup {
				errs = append(errs, at(item.Line, keys[j], "the same %s as %s (%s)", kind.Key, prev, e.Spec.ID()))
				continue
			}
			seen[e.ID()] = keys[j]
			es.List = append(es.List, *e)
		}
	}
	return errs
}

// decodeEntry reads one entry into its kind's Spec and checks it; nil when it is
// switched off or did not decode.
func decodeEntry(file string, root *yaml.Node, kind *component.Kind, key string, item *yaml.Node) (*Entry, []error) {
	spec := kind.New()
	errs := unknownKeys(file, item, reflect.TypeOf(spec), key)
	if err := item.Decode(spec); err != nil {
		return nil, append(errs, fmt.Errorf("%s: %s: %w", file, key, err))
	}
	if sw, ok := spec.(component.Switch); ok && !sw.Enabled() {
		return nil, errs
	}
	if ch, ok := spec.(component.Checker); ok {
		for _, p := range ch.Check() {
			k := key
			if p.Key != "" {
				k += "." + p.Key
			}
			errs = append(errs, &Error{File: file, Line: lineOf(root, k), Key: k, Msg: p.Msg})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &Entry{Kind: kind, Spec: spec, Key: key}, nil
}

// unknownKeys lists every key of n that t (a struct, through pointers, slices and maps)
// has no field for, with its line; types that decode themselves are not looked into.
func unknownKeys(file string, n *yaml.Node, t reflect.Type, path string) []error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		var errs []error
		for _, c := range n.Content {
			errs = append(errs, unknownKeys(file, c, t, path)...)
		}
		return errs
	}
	unmarshaler := reflect.TypeFor[yaml.Unmarshaler]()
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshaler) {
			return nil
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	var errs []error
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				errs = append(errs, unknownKeys(file, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				errs = append(errs, unknownKeys(file, n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				errs = append(errs, &Error{File: file, Line: k.Line, Key: join(path, k.Value), Msg: "unknown key" + suggest(k.Value, fields)})
				continue
			}
			errs = append(errs, unknownKeys(file, n.Content[i+1], ft, join(path, k.Value))...)
		}
	}
	return errs
}

// yamlFields maps a struct's YAML keys to their types (inline structs included).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if opts == "inline" {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the known key closest to a misspelt one.
func suggest(key string, fields map[string]reflect.Type) string {
	best, dist := "", 3
	for k := range fields {
		if d := distance(key, k); d < dist {
			best, dist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein distance of two short keys.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Item is one entry of a section written in Go: the kind's key and its settings.
type Item struct {
	Kind string
	Spec component.Spec
}

// Section builds a section from entries written in Go (tests, programs that embed the
// daemon); each is checked as an entry read from a file would be.
func Section(role component.Role, items ...Item) (Entries, error) {
	var es Entries
	var errs []error
	seen := map[string]bool{}
	for i, it := range items {
		key := fmt.Sprintf("%s.%s[%d]", role, it.Kind, i)
		kind, ok := component.Lookup(role, it.Kind)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown kind: want one of %s", key, component.Keys(role)))
			continue
		}
		if ch, ok := it.Spec.(component.Checker); ok {
			for _, p := range ch.Check() {
				errs = append(errs, fmt.Errorf("%s.%s: %s", key, p.Key, p.Msg))
			}
		}
		e := Entry{Kind: kind, Spec: it.Spec, Key: key}
		if seen[e.ID()] {
			errs = append(errs, fmt.Errorf("%s: a second %s", key, e.ID()))
		}
		seen[e.ID()] = true
		es.List = append(es.List, e)
	}
	return es, errors.Join(errs...)
}
