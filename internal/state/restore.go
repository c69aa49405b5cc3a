package state

import "time"

// Restore takes up alarms open before a restart (the store's open rows), so that the
// tracker knows them as it knew them: a clear closes them, an assert repeats them, the
// sinks that start are told of them, /metrics counts them. An alarm the tracker already
// holds open (same host and key) is left as it is; cleared alarms are skipped. They
// count neither as opened nor as cleared since the start. Like every method, it must be
// called from the goroutine that owns the tracker (or before it runs).
func (t *Tracker) Restore(alarms []Alarm) {
	for _, a := range alarms {
		if !a.Cleared.IsZero() {
			continue
		}
		host := t.alarms.open[a.Host]
		if host == nil {
			host = map[string]*Alarm{}
			t.alarms.open[a.Host] = host
		}
		if host[a.Key] != nil {
			continue
		}
		cp := a
		cp.ClearHeld, cp.ClearedBy = time.Time{}, ""
		if cp.Asserts < 1 {
			cp.Asserts = 1 // a later assert of it is a repeat, not an opening
		}
		host[a.Key] = &cp
	}
}
