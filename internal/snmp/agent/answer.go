package agent

import (
	"strings"

	"github.com/gosnmp/gosnmp"
)

// reply is the PDU part of an answer: what every version encodes the same way.
type reply struct {
	errStatus gosnmp.SNMPError
	errIndex  uint8
	vars      []Var
	// bulk marks a GetBulk answer, which may be cut short to fit the message size
	// (RFC 3416 4.2.3) where any other answer becomes tooBig.
	bulk bool
	// keep is the number of leading varbinds a cut must not remove (non-repeaters).
	keep int
	// bad is the OID of a Tree value that could not be encoded, for the log.
	bad string
}

// answer runs one confirmed-class request against the tree. v1 selects SNMPv1's error
// conventions (noSuchName instead of exceptions, no Counter64). room is how many bytes
// of the message the variable bindings may take: GetBulk stops there. It reports false
// for a PDU an agent does not answer (responses, traps, reports, and GetBulk in v1).
func (a *Agent) answer(req *gosnmp.SnmpPacket, v1 bool, room int) (reply, bool) {
	switch req.PDUType {
	case gosnmp.GetRequest:
		return a.answerGet(req.Variables, v1), true
	case gosnmp.GetNextRequest:
		return a.answerNext(req.Variables, v1), true
	case gosnmp.GetBulkRequest:
		if v1 {
			return reply{}, false
		}
		return a.answerBulk(req.Variables, int(req.NonRepeaters), int(req.MaxRepetitions), room), true
	case gosnmp.SetRequest:
		return a.refuseSet(req.Variables, v1), true
	}
	return reply{}, false
}

func (a *Agent) answerGet(reqVars []Var, v1 bool) reply {
	out := make([]Var, 0, len(reqVars))
	for i, rv := range reqVars {
		v, ok := a.tree.Get(rv.Name)
		if ok {
			var enc bool
			if v, enc = encodable(v); !enc {
				return genErr(reqVars, i, rv.Name)
			}
		}
		switch {
		case ok && !(v1 && v.Type == gosnmp.Counter64):
			v.Name = rv.Name
			out = append(out, v)
		case v1:
			return errorReply(gosnmp.NoSuchName, reqVars, i)
		case a.objectExists(rv.Name):
			out = append(out, Var{Name: rv.Name, Type: gosnmp.NoSuchInstance})
		default:
			out = append(out, Var{Name: rv.Name, Type: gosnmp.NoSuchObject})
		}
	}
	return reply{vars: out}
}

// objectExists tells noSuchInstance from noSuchObject the way net-snmp does: the object
// exists when something is registered under the requested name's parent (a scalar's
// .0, or any row of a column).
func (a *Agent) objectExists(oid string) bool {
	parent := parentOID(oid)
	if parent == "" {
		return false
	}
	v, ok := a.tree.Next(parent)
	return ok && strings.HasPrefix(v.Name, parent+".")
}

func (a *Agent) answerNext(reqVars []Var, v1 bool) reply {
	out := make([]Var, 0, len(reqVars))
	for i, rv := range reqVars {
		v, ok, enc := a.next(rv.Name, v1)
		switch {
		case !enc:
			return genErr(reqVars, i, v.Name)
		case ok:
			out = append(out, v)
		case v1:
			return errorReply(gosnmp.NoSuchName, reqVars, i)
		default:
			out = append(out, Var{Name: rv.Name, Type: gosnmp.EndOfMibView})
		}
	}
	return reply{vars: out}
}

// next is Tree.Next made sendable: in v1 it skips Counter64 values, which v1 cannot
// carry (RFC 3584 4.2.2.1); enc is false when the value cannot be encoded.
func (a *Agent) next(oid string, v1 bool) (v Var, ok, enc bool) {
	for {
		v, ok = a.tree.Next(oid)
		if !ok {
			return v, false, true
		}
		if v, enc = encodable(v); !enc {
			return v, false, false
		}
		if !v1 || v.Type != gosnmp.Counter64 {
			return v, true, true
		}
		if !oidAfter(v.Name, oid) { // a Tree that does not advance would loop here
			return v, false, true
		}
		oid = v.Name
	}
}

// answerBulk implements GetBulk (RFC 3416 4.2.3): the first nonRep variables get one
// successor each, the others maxRep successors in rows, stopping early when a whole
// row is at the end of the MIB view or the next variable would not fit in room bytes.
func (a *Agent) answerBulk(reqVars []Var, nonRep, maxRep, room int) reply {
	nonRep = min(max(nonRep, 0), len(reqVars))
	maxRep = max(maxRep, 0)
	r := reply{bulk: true, keep: nonRep}
	size := 0
	for i, rv := range reqVars[:nonRep] {
		v, ok, enc := a.next(rv.Name, false)
		if !enc {
			return genErr(reqVars, i, v.Name)
		}
		if !ok {
			v = Var{Name: rv.Name, Type: gosnmp.EndOfMibView}
		}
		r.vars = append(r.vars, v)
		size += varbindSize(v)
	}
	cur := make([]string, len(reqVars)-nonRep)
	for j := range cur {
		cur[j] = reqVars[nonRep+j].Name
	}
	ended := make([]bool, len(cur))
	for rep := 0; rep < maxRep && len(cur) > 0; rep++ {
		allEnded := true
		for j, oid := range cur {
			v := Var{Name: oid, Type: gosnmp.EndOfMibView}
			if !ended[j] {
				var ok, enc bool
				if v, ok, enc = a.next(oid, false); !enc {
					return genErr(reqVars, nonRep+j, v.Name)
				}
				if ok {
					cur[j], allEnded = v.Name, false
				} else {
					v, ended[j] = Var{Name: oid, Type: gosnmp.EndOfMibView}, true
				}
			}
			if size += varbindSize(v); size > room {
				return r
			}
			r.vars = append(r.vars, v)
		}
		if allEnded {
			break
		}
	}
	return r
}

// refuseSet answers a SetRequest as a read-only net-snmp community or user does:
// noAccess in v2c and v3, noSuchName in v1, on the first variable; nothing changes.
func (a *Agent) refuseSet(reqVars []Var, v1 bool) reply {
	a.count.setRefused.Add(1)
	if v1 {
		return errorReply(gosnmp.NoSuchName, reqVars, 0)
	}
	return errorReply(gosnmp.NoAccess, reqVars, 0)
}

// errorReply echoes the request's variables with an error at index i (0-based), as
// RFC 3416 requires for every error but tooBig.
func errorReply(status gosnmp.SNMPError, reqVars []Var, i int) reply {
	return reply{errStatus: status, errIndex: errIndex(i), vars: echo(reqVars)}
}

// genErr is the answer when the tree holds a value its type cannot carry.
func genErr(reqVars []Var, i int, oid string) reply {
	r := errorReply(gosnmp.GenErr, reqVars, i)
	r.bad = oid
	return r
}

// errIndex is i+1, held in gosnmp's byte-sized error index; an error beyond the 255th
// variable reports 255.
func errIndex(i int) uint8 { return uint8(min(i+1, 255)) }

// echo returns the request's variables as they are sent back, values included (a
// value that could not be encoded again goes back as NULL).
func echo(reqVars []Var) []Var {
	out := make([]Var, len(reqVars))
	for i, v := range reqVars {
		if ev, ok := encodable(v); ok {
			out[i] = ev
		} else {
			out[i] = Var{Name: v.Name, Type: gosnmp.Null}
		}
	}
	return out
}
