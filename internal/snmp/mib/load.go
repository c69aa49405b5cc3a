package mib

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sleepinggenius2/gosmi/parser"
)

// wellKnown are the roots every MIB imports from SNMPv2-SMI or RFC1155-SMI, so that a
// vendor MIB loads even when those base modules are not in the folder (Debian's free
// snmp package does not ship them).
var wellKnown = map[string]string{
	"ccitt": ".0", "iso": ".1", "joint-iso-ccitt": ".2", "zeroDotZero": ".0.0",
	"org": ".1.3", "dod": ".1.3.6", "internet": ".1.3.6.1",
	"directory": ".1.3.6.1.1", "mgmt": ".1.3.6.1.2", "mib-2": ".1.3.6.1.2.1",
	"system": ".1.3.6.1.2.1.1", "interfaces": ".1.3.6.1.2.1.2", "transmission": ".1.3.6.1.2.1.10",
	"experimental": ".1.3.6.1.3", "private": ".1.3.6.1.4", "enterprises": ".1.3.6.1.4.1",
	"security": ".1.3.6.1.5", "snmpV2": ".1.3.6.1.6", "snmpDomains": ".1.3.6.1.6.1",
	"snmpProxys": ".1.3.6.1.6.2", "snmpModules": ".1.3.6.1.6.3",
	"snmpMIB": ".1.3.6.1.6.3.1", "snmpMIBObjects": ".1.3.6.1.6.3.1.1",
	"snmpTrap": ".1.3.6.1.6.3.1.1.4", "snmpTraps": ".1.3.6.1.6.3.1.1.5",
	"ucdavis": ".1.3.6.1.4.1.2021", "netSnmp": ".1.3.6.1.4.1.8072",
}

// wellKnownEnums are textual conventions of SNMPv2-TC used without their module.
var wellKnownEnums = map[string]map[int64]string{
	"TruthValue":  {1: "true", 2: "false"},
	"RowStatus":   {1: "active", 2: "notInService", 3: "notReady", 4: "createAndGo", 5: "createAndWait", 6: "destroy"},
	"StorageType": {1: "other", 2: "volatile", 3: "nonVolatile", 4: "permanent", 5: "readOnly"},
}

// module is one parsed MIB file.
type module struct {
	file    string
	ast     *parser.Module
	imports map[string]string // name -> module it comes from
	nodes   map[string]*parser.Node
}

// loader resolves names across the modules of one Load.
type loader struct {
	modules map[string]*module
	oids    map[string]string // "MODULE::name" -> OID, memoised
	busy    map[string]bool   // cycle guard
	enums   map[string]map[int64]string
	tcs     map[string]string // textual convention or type name -> the syntax it stands for
}

// Load parses every MIB file in dirs (files and folders; not recursive) and adds their
// objects and notifications to t. Files that fail to parse, and names that cannot be
// resolved, are reported together, each with its file and line; everything else is
// loaded, so one broken vendor file does not hide the others.
func (t *Table) Load(paths ...string) error {
	l := newLoader()
	var errs []error
	for _, f := range mibFiles(paths, &errs) {
		if err := l.parse(f.path, f.explicit); err != nil {
			errs = append(errs, err)
		}
	}
	return t.resolveAll(l, errs)
}

// resolveAll resolves what l parsed into t.
func (t *Table) resolveAll(l *loader, errs []error) error {
	names := make([]string, 0, len(l.modules))
	for n := range l.modules {
		names = append(names, n)
	}
	sort.Strings(names)
	var added []*Entry
	for _, n := range names {
		es, err := l.entries(l.modules[n])
		errs = append(errs, err...)
		added = append(added, es...)
	}
	for _, e := range added {
		t.Add(e)
	}
	t.markColumns(added)
	return errors.Join(errs...)
}

type mibFile struct {
	path     string
	explicit bool // named on its own, not found in a folder
}

func mibFiles(paths []string, errs *[]error) []mibFile {
	var out []mibFile
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("mibs: %w", err))
			continue
		}
		if !st.IsDir() {
			out = append(out, mibFile{p, true})
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("mibs: %w", err))
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, mibFile{filepath.Join(p, e.Name()), false})
			}
		}
	}
	return out
}

// parse reads one file. A file found in a folder that holds no module definition (a
// README, a checksum list) is skipped, as net-snmp skips it; a file named on its own must
// be a MIB.
func (l *loader) parse(file string, explicit bool) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("mibs: %w", err)
	}
	if !explicit && !bytes.Contains(text, []byte("DEFINITIONS")) {
		return nil
	}
	return l.parseText(file, text)
}

func newLoader() *loader {
	l := &loader{modules: map[string]*module{}, oids: map[string]string{}, busy: map[string]bool{},
		enums: map[string]map[int64]string{}, tcs: map[string]string{}}
	for k, v := range wellKnownEnums {
		l.enums[k] = v
	}
	return l
}

func (l *loader) parseText(file string, text []byte) (err error) {
	// A vendor file must not take the process down, whatever the parser makes of it.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: the SMI parser failed on this file: %v", file, r)
		}
	}()
	ast, err := parser.Parse(bytes.NewReader(text))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err) // participle's error starts with line:column
	}
	m := &module{file: file, ast: ast, imports: map[string]string{}, nodes: map[string]*parser.Node{}}
	for _, imp := range ast.Body.Imports {
		for _, n := range imp.Names {
			m.imports[string(n)] = string(imp.Module)
		}
	}
	for i := range ast.Body.Nodes {
		n := &ast.Body.Nodes[i]
		m.nodes[string(n.Name)] = n
	}
	for _, ty := range ast.Body.Types {
		syn := typeSyntax(ty)
		if syn == nil {
			continue
		}
		if len(syn.Enum) > 0 {
			l.enums[string(ty.Name)] = enumsOf(syn.Enum)
		}
		l.tcs[string(ty.Name)] = string(syn.Name)
	}
	name := string(ast.Name)
	if prev, ok := l.modules[name]; ok {
		return fmt.Errorf("%s: module %s is already defined by %s", file, name, prev.file)
	}
	l.modules[name] = m
	return nil
}

func typeSyntax(ty parser.Type) *parser.SyntaxType {
	switch {
	case ty.TextualConvention != nil:
		return &ty.TextualConvention.Syntax
	case ty.Syntax != nil:
		return ty.Syntax
	}
	return nil
}

func enumsOf(nn []parser.NamedNumber) map[int64]string {
	out := make(map[int64]string, len(nn))
	for _, n := range nn {
		if v, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			out[v] = string(n.Name)
		}
	}
	return out
}

// entries resolves every named OID of m.
func (l *loader) entries(m *module) ([]*Entry, []error) {
	var out []*Entry
	var errs []error
	mod := string(m.ast.Name)
	if id := m.ast.Body.Identity; id != nil {
		if oid, err := l.resolve(mod, string(id.Name)); err == nil {
			out = append(out, &Entry{OID: oid, Module: mod, Name: string(id.Name), Kind: KindNode,
				Origin: fmt.Sprintf("%s:%d", m.file, id.Pos.Line)})
		} else {
			errs = append(errs, fmt.Errorf("%s:%d: %w", m.file, id.Pos.Line, err))
		}
	}
	for i := range m.ast.Body.Nodes {
		n := &m.ast.Body.Nodes[i]
		oid, err := l.resolve(mod, string(n.Name))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", m.file, n.Pos.Line, err))
			continue
		}
		out = append(out, l.entry(m, n, oid))
	}
	return out, errs
}

func (l *loader) entry(m *module, n *parser.Node, oid string) *Entry {
	mod := string(m.ast.Name)
	e := &Entry{OID: oid, Module: mod, Name: string(n.Name), Kind: KindNode,
		Origin: fmt.Sprintf("%s:%d", m.file, n.Pos.Line)}
	switch {
	case n.ObjectType != nil:
		ot := n.ObjectType
		e.Units, e.Description = ot.Units, ot.Description
		switch {
		case ot.Syntax.Sequence != nil:
			e.Kind, e.Syntax = KindTable, "SEQUENCE OF "+string(*ot.Syntax.Sequence)
		case len(ot.Index) > 0 || ot.Augments != nil:
			e.Kind = KindRow
		default:
			e.Kind = KindScalar // markColumns turns the objects under a row into columns
		}
		if st := ot.Syntax.Type; st != nil {
			e.Syntax = strings.Join(strings.Fields(string(st.Name)), " ")
			e.Base = baseOf(e.Syntax, l.tcs)
			if len(st.Enum) > 0 {
				e.Enums = enumsOf(st.Enum)
			} else if en, ok := l.enums[string(st.Name)]; ok {
				e.Enums = en
			}
		}
	case n.NotificationType != nil:
		e.Kind = KindNotification
		for _, o := range n.NotificationType.Objects {
			e.Objects = append(e.Objects, l.qualify(m, string(o)))
		}
	case n.TrapType != nil:
		e.Kind = KindNotification
		for _, o := range n.TrapType.Objects {
			e.Objects = append(e.Objects, l.qualify(m, string(o)))
		}
	}
	return e
}

// qualify writes a name as MODULE::name, following m's imports.
func (l *loader) qualify(m *module, name string) string {
	if from, ok := m.imports[name]; ok {
		return from + "::" + name
	}
	return string(m.ast.Name) + "::" + name
}

// resolve returns the OID of name as seen from module mod.
func (l *loader) resolve(mod, name string) (string, error) {
	key := mod + "::" + name
	if oid, ok := l.oids[key]; ok {
		return oid, nil
	}
	if l.busy[key] {
		return "", fmt.Errorf("%s: its OID refers back to itself", key)
	}
	l.busy[key] = true
	defer delete(l.busy, key)
	oid, err := l.resolveUncached(mod, name)
	if err == nil {
		l.oids[key] = oid
	}
	return oid, err
}

func (l *loader) resolveUncached(mod, name string) (string, error) {
	m := l.modules[mod]
	if m != nil {
		if n, ok := m.nodes[name]; ok {
			return l.nodeOID(mod, n)
		}
		if id := m.ast.Body.Identity; id != nil && string(id.Name) == name {
			return l.oidValue(mod, id.Oid.SubIdentifiers)
		}
		if from, ok := m.imports[name]; ok && l.modules[from] != nil {
			return l.resolve(from, name)
		}
	}
	if oid, ok := wellKnown[name]; ok {
		return oid, nil
	}
	if m != nil {
		if from, ok := m.imports[name]; ok {
			return "", fmt.Errorf("%s is imported from %s, which is not loaded", name, from)
		}
	}
	return "", fmt.Errorf("%s is not defined in %s nor imported", name, mod)
}

func (l *loader) nodeOID(mod string, n *parser.Node) (string, error) {
	switch {
	case n.Oid != nil:
		return l.oidValue(mod, n.Oid.SubIdentifiers)
	case n.TrapType != nil && n.SubIdentifier != nil:
		// An SMIv1 trap is enterprise.0.specific in SNMPv2 form (RFC 3584).
		ent, err := l.resolve(mod, string(n.TrapType.Enterprise))
		if err != nil {
			return "", err
		}
		return ent + ".0." + strconv.FormatUint(uint64(*n.SubIdentifier), 10), nil
	}
	return "", fmt.Errorf("%s has no OID value", n.Name)
}

// oidValue resolves "{ parent 3 }", "{ iso org(3) dod(6) 1 }" or "{ 1 3 6 1 }".
func (l *loader) oidValue(mod string, subs []parser.SubIdentifier) (string, error) {
	var b strings.Builder
	for i, s := range subs {
		switch {
		case s.Number != nil:
			b.WriteByte('.')
			b.WriteString(strconv.FormatUint(uint64(*s.Number), 10))
		case s.Name != nil && i == 0:
			parent, err := l.resolve(mod, string(*s.Name))
			if err != nil {
				return "", err
			}
			b.WriteString(parent)
		default:
			return "", fmt.Errorf("OID component %d has a name without a number", i+1)
		}
	}
	return b.String(), nil
}

// markColumns turns the scalars whose parent is a row into columns.
func (t *Table) markColumns(es []*Entry) {
	for _, e := range es {
		if e.Kind != KindScalar {
			continue
		}
		if i := strings.LastIndexByte(e.OID, '.'); i > 0 {
			if p := t.byOID[e.OID[:i]]; p != nil && p.Kind == KindRow {
				e.Kind = KindColumn
			}
		}
	}
}
