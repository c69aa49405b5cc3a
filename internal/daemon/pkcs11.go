package daemon

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
	pkcs11probe "github.com/hsmwatch/hsmwatch/internal/source/pkcs11"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// defaultPKCS11Interval is how often a library is probed when no interval is given.
const defaultPKCS11Interval = time.Minute

// pkcs11Plan probes one PKCS#11 library on a schedule: each token's figures (sessions,
// memory) go to /metrics as hsmwatch_hsm_pkcs11_* and to the store as samples, the
// token's label (else its serial) naming the host. A failed or stuck probe is counted
// and logged; the library is loaded at each probe, never kept open in between.
func (d *Daemon) pkcs11Plan(p config.PKCS11Probe) plan {
	return plan{id: "pkcs11:" + p.Library, spec: spec(p), build: func(owner string) (*unit, error) {
		return d.buildPKCS11(owner, p), nil
	}}
}

func (d *Daemon) buildPKCS11(owner string, p config.PKCS11Probe) *unit {
	interval := time.Duration(p.Interval)
	if interval <= 0 {
		interval = defaultPKCS11Interval
	}
	name := "pkcs11:" + p.Library
	var probes, failures atomicCounter
	var pr pkcs11probe.Prober
	probe := func(ctx context.Context) {
		probes.add()
		pctx, cancel := context.WithTimeout(ctx, max(interval, 10*time.Second))
		defer cancel()
		rep, err := pr.Probe(pctx, p.Library)
		if err != nil {
			failures.add()
			if ctx.Err() == nil {
				d.log.Warn("pkcs11 probe failed", "source", name, "err", err)
			}
			return
		}
		for _, t := range rep.Tokens {
			d.tokenSamples(ctx, p.Library, t)
		}
	}
	l := map[string]string{"source": name}
	d.reg.FuncOf(owner, "pkcs11_probes_total", "PKCS#11 probes done.", true, l, probes.value)
	d.reg.FuncOf(owner, "pkcs11_probe_failures_total", "PKCS#11 probes that failed or found the library stuck.", true, l, failures.value)
	return &unit{name: name, run: func(ctx context.Context) error {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			probe(ctx)
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}}
}

func (d *Daemon) tokenSamples(ctx context.Context, lib string, t pkcs11probe.Token) {
	host := t.Label
	if host == "" {
		host = t.Serial
	}
	if host == "" {
		host = fmt.Sprintf("%s:slot%d", lib, t.Slot)
	}
	labels := map[string]string{"library": lib, "slot": strconv.FormatUint(uint64(t.Slot), 10), "serial": t.Serial}
	figures := []struct {
		name string
		v    pkcs11probe.Ulong
	}{
		{"pkcs11_sessions", t.Sessions}, {"pkcs11_rw_sessions", t.RWSessions},
		{"pkcs11_max_sessions", t.MaxSessions}, {"pkcs11_max_rw_sessions", t.MaxRWSessions},
		{"pkcs11_private_memory_total_bytes", t.TotalPrivateMemory}, {"pkcs11_private_memory_free_bytes", t.FreePrivateMemory},
		{"pkcs11_public_memory_total_bytes", t.TotalPublicMemory}, {"pkcs11_public_memory_free_bytes", t.FreePublicMemory},
	}
	var ms []metrics.Sample
	var ss []store.Sample
	for _, f := range figures {
		if f.v == pkcs11probe.Unavailable {
			continue
		}
		ms = append(ms, metrics.Sample{Host: host, Name: f.name, Labels: labels, Value: float64(f.v)})
		ss = append(ss, store.Sample{Host: host, Metric: f.name, Labels: labels, Value: float64(f.v), Time: t.ReadAt})
	}
	if len(ms) == 0 {
		return
	}
	d.reg.SetSamples(host, ms)
	if err := d.store.PutSamples(ctx, ss); err != nil && ctx.Err() == nil {
		d.log.Warn("storing pkcs11 samples", "host", host, "err", err)
	}
}
