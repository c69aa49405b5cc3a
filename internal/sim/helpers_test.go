package sim

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/agent"
)

// t0 is the start of every test's simulation.
var t0 = time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)

// oidLess compares dotted OIDs arc by arc, numerically.
func oidLess(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(a, "."), ".")
	pb := strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.ParseUint(pa[i], 10, 32)
		y, _ := strconv.ParseUint(pb[i], 10, 32)
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// walkTree walks tr with Next from the start and fails on an OID that does not grow or a
// walk that does not end.
func walkTree(t *testing.T, tr agent.Tree) []Var {
	t.Helper()
	var out []Var
	prev := ""
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("walk does not end")
		}
		v, ok := tr.Next(prev)
		if !ok {
			return out
		}
		if prev != "" && !oidLess(prev, v.Name) {
			t.Fatalf("walk goes from %s to %s: not increasing", prev, v.Name)
		}
		out = append(out, v)
		prev = v.Name
	}
}

// recorder collects what devices emit, and is the notifier of their traps.
type recorder struct {
	mu    sync.Mutex
	items []Emitted
	sent  []sentTrap
}

type sentTrap struct {
	target agent.Target
	oid    string
	vars   []Var
}

func (r *recorder) observe(e Emitted) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, e)
}

func (r *recorder) Notify(_ context.Context, t agent.Target, oid string, vars []Var) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sentTrap{t, oid, vars})
	return nil
}

func (r *recorder) take() []Emitted {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.items
	r.items = nil
	return out
}

func (r *recorder) traps(es []Emitted) []*Trap {
	var out []*Trap
	for _, e := range es {
		if e.Trap != nil {
			out = append(out, e.Trap)
		}
	}
	return out
}

func (r *recorder) logs(es []Emitted) []*LogRecord {
	var out []*LogRecord
	for _, e := range es {
		if e.Log != nil {
			out = append(out, e.Log)
		}
	}
	return out
}

// bind connects dev to a recorder with one trap target.
func bind(dev Device, r *recorder) {
	var targets []agent.Target
	switch d := dev.(type) {
	case *Dinamo:
		targets = []agent.Target{d.TrapTarget("127.0.0.1:162")}
	case *Luna:
		if tt, ok := d.TrapTarget("127.0.0.1:162"); ok {
			targets = []agent.Target{tt}
		}
	}
	dev.Bind(Outputs{Notifier: r, Targets: targets, Observe: r.observe})
}

func testLuna(clock Clock) *Luna {
	return NewLuna(LunaConfig{Hostname: "myLuna", IP: "192.168.0.101", Serial: "532018", Seed: 7, Clock: clock,
		Users: []agent.User{{Name: "ops", AuthProto: gosnmp.SHA, AuthPass: "authpass123", PrivProto: gosnmp.AES, PrivPass: "privpass123"}}})
}

func testDinamo(clock Clock) *Dinamo {
	return NewDinamo(DinamoConfig{Serial: "TCA0000042", Address: "172.17.0.2", Seed: 7, Clock: clock})
}

// get reads one instance from a device's tree by object name.
func get(t *testing.T, dev Device, tab *table, name, index string) Var {
	t.Helper()
	o := tab.get(name)
	v, ok := dev.Tree().Get(o.instance(index))
	if !ok {
		t.Fatalf("%s (%s) is not in the tree", name, o.instance(index))
	}
	return v
}

func num(t *testing.T, v Var) int64 {
	t.Helper()
	switch x := v.Value.(type) {
	case int:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	}
	t.Fatalf("%s: %T is not a number", v.Name, v.Value)
	return 0
}
