package classify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:generate go run ./ckrgen ckrgen/ckr.txt catalog/pkcs11-ckr.yaml

//go:embed catalog
var shipped embed.FS

// ruleFile is the document form of a catalog file: rules, and rows of the severity floor
// (the shipped table is floor.yaml; any file may replace its rows by id or add rows).
type ruleFile struct {
	Rules []Rule       `yaml:"rules"`
	Floor []FloorEntry `yaml:"floor"`
}

// parsedFile is what one file contributes.
type parsedFile struct {
	rules, floor []*Rule
}

func (p *parsedFile) add(q parsedFile) {
	p.rules = append(p.rules, q.rules...)
	p.floor = append(p.floor, q.floor...)
}

// check reports a duplicate id among rules and floor rows.
func (p *parsedFile) check() error {
	return checkDuplicates(append(p.rules[:len(p.rules):len(p.rules)], p.floor...))
}

// Load returns the shipped catalog with the operator's rule files or folders (every
// *.yaml / *.yml inside, in name order) applied on top: a rule with a shipped id replaces
// it, a new id adds a rule. Any error (syntax, unknown key, bad regex, duplicate id
// within the shipped set or within the operator's files) fails the whole load, naming
// file:line: a catalog is never half-loaded.
func Load(paths ...string) (*Catalog, error) {
	base, err := loadFS(shipped, "catalog")
	if err != nil {
		return nil, fmt.Errorf("shipped catalog: %w", err)
	}
	var extra parsedFile
	for _, p := range paths {
		pf, err := loadPath(p)
		if err != nil {
			return nil, err
		}
		extra.add(pf)
	}
	if err := extra.check(); err != nil {
		return nil, err
	}
	return newCatalog(merge(base.rules, extra.rules), merge(base.floor, extra.floor))
}

func loadFS(fsys fs.FS, dir string) (parsedFile, error) {
	var out parsedFile
	names, err := fs.Glob(fsys, dir+"/*.yaml")
	if err != nil {
		return out, err
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return out, err
		}
		pf, err := parseFile(name, data)
		if err != nil {
			return out, err
		}
		out.add(pf)
	}
	return out, out.check()
}

func loadPath(path string) (parsedFile, error) {
	var out parsedFile
	st, err := os.Stat(path)
	if err != nil {
		return out, fmt.Errorf("--rules: %w", err)
	}
	files := []string{path}
	if st.IsDir() {
		files = nil
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(path, pat))
			files = append(files, m...)
		}
		sort.Strings(files)
		if len(files) == 0 {
			return out, fmt.Errorf("--rules %s: no .yaml or .yml file in the folder", path)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return out, fmt.Errorf("--rules: %w", err)
		}
		pf, err := parseFile(f, data)
		if err != nil {
			return out, err
		}
		out.add(pf)
	}
	return out, nil
}

// parseFile decodes one catalog file strictly (unknown keys are errors) and compiles its
// rules; errors name file:line.
func parseFile(name string, data []byte) (parsedFile, error) {
	var out parsedFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc ruleFile
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		return out, yamlError(name, err)
	}
	lines := itemLines(data, "rules")
	rules := make([]*Rule, 0, len(doc.Rules))
	for i := range doc.Rules {
		r := &doc.Rules[i]
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		r.Origin = fmt.Sprintf("%s:%d", name, line)
		if err := r.compile(); err != nil {
			return out, fmt.Errorf("%s: %w", r.Origin, err)
		}
		rules = append(rules, r)
	}
	out.rules = rules
	lines = itemLines(data, "floor")
	for i := range doc.Floor {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		origin := fmt.Sprintf("%s:%d", name, line)
		r, err := doc.Floor[i].rule(origin)
		if err != nil {
			return out, fmt.Errorf("%s: %w", origin, err)
		}
		out.floor = append(out.floor, r)
	}
	return out, nil
}

// itemLines returns the line of each item of the top-level list key.
func itemLines(data []byte, key string) []int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			var lines []int
			for _, item := range m.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}

func checkDuplicates(rules []*Rule) error {
	seen := map[string]*Rule{}
	for _, r := range rules {
		if first, ok := seen[r.ID]; ok {
			return fmt.Errorf("%s: rule %s is already defined at %s", r.Origin, r.ID, first.Origin)
		}
		seen[r.ID] = r
	}
	return nil
}

// merge applies the operator's rules over the shipped ones by id, keeping shipped order.
func merge(base, extra []*Rule) []*Rule {
	byID := map[string]*Rule{}
	for _, r := range extra {
		byID[r.ID] = r
	}
	out := make([]*Rule, 0, len(base)+len(extra))
	for _, r := range base {
		if o, ok := byID[r.ID]; ok {
			out = append(out, o)
			delete(byID, r.ID)
			continue
		}
		out = append(out, r)
	}
	for _, r := range extra {
		if _, ok := byID[r.ID]; ok {
			out = append(out, r)
		}
	}
	return out
}

// yamlError rewrites the YAML library's "line N: ..." messages as "file:N: ...", the form
// editors and terminals jump to. Unknown keys are named as such.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if num, msg, ok := strings.Cut(rest, ": "); ok {
				msg = strings.Replace(msg, " in type classify.Rule", " (unknown key)", 1)
				msg = strings.Replace(msg, " in type classify.FloorEntry", " (unknown key)", 1)
				out = append(out, fmt.Sprintf("%s:%s: %s", name, num, msg))
				continue
			}
		}
		out = append(out, name+": "+m)
	}
	return errors.New(strings.Join(out, "\n"))
}
