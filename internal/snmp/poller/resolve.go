package poller

import (
	"fmt"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// object is a profile's object, resolved through the MIB table.
type object struct {
	ref   string // as the profile writes it
	name  string // the bare name
	oid   string // numeric, without instance
	entry *mib.Entry
}

// plan is a profile resolved against a MIB table: what one poll asks for.
type plan struct {
	profile *Profile
	objs    map[string]*object // by reference; unresolved ones are missing
	// missing says, by reference, why an object could not be resolved.
	missing map[string]string
	get     []string // scalar instances (".0"), in profile order
	walk    []string // table OIDs
	notes   []string
}

// newPlan resolves p's objects: MODULE::name through the table's names, a bare name
// among the entries under p.Root (the Dinamo objects keep their documented names under
// whatever numbers the loaded MIB gives them). Nothing here fails: what cannot be
// resolved is left out and said in the plan's notes, so the rest is still polled.
func newPlan(p *Profile, t *mib.Table) *plan {
	pl := &plan{profile: p, objs: map[string]*object{}, missing: map[string]string{}}
	var bare map[string][]*mib.Entry
	if p.Root != "" {
		bare = map[string][]*mib.Entry{}
		root := mib.Normalize(p.Root) + "."
		for _, e := range t.Entries() {
			if strings.HasPrefix(e.OID, root) {
				bare[e.Name] = append(bare[e.Name], e)
			}
		}
	}
	lookup := func(ref string) (*object, string) {
		if o, ok := pl.objs[ref]; ok {
			return o, ""
		}
		if why, ok := pl.missing[ref]; ok {
			return nil, why
		}
		var o *object
		why := ""
		if strings.Contains(ref, "::") {
			oid, ok := t.Resolve(ref)
			e, suffix, found := t.Lookup(oid)
			if ok && found && suffix == "" {
				o = &object{ref: ref, name: e.Name, oid: oid, entry: e}
			} else {
				mod, _, _ := strings.Cut(ref, "::")
				why = fmt.Sprintf("%s is not in the loaded MIBs (load the vendor's %s with --mibs DIR)", ref, mod)
			}
		} else {
			switch es := bare[ref]; len(es) {
			case 0:
				why = fmt.Sprintf("no loaded MIB names %s under %s", ref, p.Root)
			case 1:
				o = &object{ref: ref, name: ref, oid: es[0].OID, entry: es[0]}
			default:
				why = fmt.Sprintf("%s is defined by more than one loaded MIB under %s (%s and %s)", ref, p.Root, es[0].FullName(), es[1].FullName())
			}
		}
		if o == nil {
			pl.missing[ref] = why
			return nil, why
		}
		pl.objs[ref] = o
		return o, ""
	}
	for _, ref := range p.Scalars {
		o, why := lookup(ref)
		switch {
		case o == nil:
			pl.notes = append(pl.notes, why)
		case o.entry.Kind != mib.KindScalar:
			pl.notes = append(pl.notes, fmt.Sprintf("%s is a %s in %s, not a scalar: not polled", ref, o.entry.Kind, o.entry.Origin))
			delete(pl.objs, ref)
			pl.missing[ref] = "not a scalar"
		default:
			pl.get = append(pl.get, o.oid+".0")
		}
	}
	for _, ref := range p.Tables {
		o, why := lookup(ref)
		switch {
		case o == nil:
			pl.notes = append(pl.notes, why)
		case o.entry.Kind != mib.KindTable && o.entry.Kind != mib.KindRow:
			pl.notes = append(pl.notes, fmt.Sprintf("%s is a %s, not a table: not walked", ref, o.entry.Kind))
		default:
			pl.walk = append(pl.walk, o.oid)
		}
	}
	// Columns are read from the walked tables: resolve them now so that a column outside
	// every walked table is said once, here.
	var refs []string
	for _, l := range p.Identity {
		refs = append(refs, l.Object)
	}
	for _, v := range p.Views {
		for _, c := range v.Columns {
			refs = append(refs, c.Object)
		}
	}
	for i := range p.Health {
		refs = append(refs, p.Health[i].objects()...)
	}
	refs = append(refs, p.Uptime...)
	for _, ref := range refs {
		o, _ := lookup(ref)
		if o == nil || o.entry.Kind != mib.KindColumn {
			continue
		}
		if !pl.walked(o.oid) {
			pl.missing[ref] = "its table is not walked"
			delete(pl.objs, ref)
			pl.notes = append(pl.notes, fmt.Sprintf("%s is a column of a table the profile does not walk", ref))
		}
	}
	if p.NeedsMIB != "" && pl.noneUnderRoot() {
		// One note for the whole vendor, not one per object it names.
		kept := []string{p.NeedsMIB}
		for _, n := range pl.notes {
			if !strings.HasPrefix(n, "no loaded MIB names ") {
				kept = append(kept, n)
			}
		}
		pl.notes = kept
	}
	return pl
}

// walked reports whether oid lies in a walked table.
func (pl *plan) walked(oid string) bool {
	for _, t := range pl.walk {
		if strings.HasPrefix(oid, t+".") {
			return true
		}
	}
	return false
}

// noneUnderRoot reports that not one of the profile's root objects was resolved: the
// operator has loaded no MIB for this vendor.
func (pl *plan) noneUnderRoot() bool {
	for _, o := range pl.objs {
		if strings.HasPrefix(o.oid, mib.Normalize(pl.profile.Root)+".") {
			return false
		}
	}
	return true
}

// object returns the resolved object for ref, or why there is none.
func (pl *plan) object(ref string) (*object, string) {
	if o, ok := pl.objs[ref]; ok {
		return o, ""
	}
	if why, ok := pl.missing[ref]; ok {
		return nil, why
	}
	return nil, ref + " is not polled by the profile"
}

// mibReady reports whether the plan can judge anything: false when the vendor's objects
// need a MIB that is not loaded.
func (pl *plan) mibReady() bool {
	return pl.profile.Root == "" || !pl.noneUnderRoot()
}
