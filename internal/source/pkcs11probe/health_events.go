package pkcs11probe

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// IDLibraryFailure is the finding of a probe that failed: the library did not load or
// initialise, crashed, was killed or hung (the daemon's probe only).
const IDLibraryFailure = "library.failure"

// healthEvents turns the probes of one library into events of source pkcs11 (the
// catalog's pkcs11-probe.yaml): an event when a finding changes state, keyed by the
// token's label (tokenHost) and the finding id. A finding that goes bad asserts; one that
// is fine again, or no longer found on a token that was read, clears. A token seen before
// and missing now raises token.not_present. It is used by one goroutine.
type healthEvents struct {
	lib   string
	last  map[string]findingState // by item: host + ":" + finding id
	hosts map[string]bool         // the tokens seen, by host
	slots map[uint]string         // the host last seen in each slot
}

type findingState struct {
	host, finding, state string
}

func newHealthEvents(lib string) *healthEvents {
	return &healthEvents{lib: lib, last: map[string]findingState{}, hosts: map[string]bool{}, slots: map[uint]string{}}
}

// observed is one finding to judge against its last state.
type observed struct {
	host, id, state, text string
	token                 *Token
	percent               *float64
}

// watched reports whether the token at host is watched: seen initialised at least once
// (report skips free slots).
func (h *healthEvents) watched(host string) bool { return h.hosts[host] }

// report returns the events of a probe that succeeded.
func (h *healthEvents) report(now time.Time, rep Report, th Thresholds) []event.Event {
	var fs []observed
	read := map[string]bool{} // hosts whose token was read now
	fs = append(fs, observed{host: h.lib, id: IDLibraryFailure, state: "ok", text: "the PKCS#11 library answers"})
	for i := range rep.Tokens {
		t := &rep.Tokens[i]
		host := tokenHost(h.lib, *t)
		if !t.Initialized() && !h.watched(host) {
			// A free slot (SoftHSM2 always offers one, an HSM's unused partitions too):
			// nothing to watch until a token is initialised there. A token seen before
			// that is no longer initialised is watched (token.not_initialized); one
			// zeroized with its label gone is missed under its label (token.not_present).
			continue
		}
		read[host], h.hosts[host], h.slots[t.Slot] = true, true, host
		hl := TokenHealth(*t, th)
		fs = append(fs, observed{host: host, id: IDNotPresent, state: "ok", token: t, text: "token present"})
		for _, f := range hl.Findings {
			if f.Info {
				continue
			}
			x := observed{host: host, id: f.ID, state: stateName(f.Status), text: f.Text, token: t}
			if f.Memory != nil {
				x.percent = &f.Memory.Percent
			}
			fs = append(fs, x)
		}
	}
	failedHosts := map[string]bool{}
	for _, slot := range slices.Sorted(maps.Keys(rep.Failed)) {
		err := rep.Failed[slot]
		host, ok := h.slots[slot]
		if !ok {
			host = fmt.Sprintf("%s:slot%d", h.lib, slot)
		}
		failedHosts[host] = true
		sh := SlotHealth(slot, err)
		f := sh.Findings[0]
		fs = append(fs, observed{host: host, id: f.ID, state: stateName(f.Status), text: fmt.Sprintf("slot %d: %s", slot, f.Text)})
	}
	for _, host := range slices.Sorted(maps.Keys(h.hosts)) {
		if !read[host] && !failedHosts[host] {
			fs = append(fs, observed{host: host, id: IDNotPresent, state: "unknown", text: "the token is no longer present: C_GetSlotList no longer lists it"})
		}
	}
	var out []event.Event
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.host+":"+f.id] = true
		if ev, ok := h.change(now, f); ok {
			out = append(out, ev)
		}
	}
	// what is no longer found on a token that was read is fine again
	for _, item := range slices.Sorted(maps.Keys(h.last)) {
		st := h.last[item]
		if read[st.host] && !seen[item] && st.state != "ok" {
			ev, _ := h.change(now, observed{host: st.host, id: st.finding, state: "ok", text: "no longer found"})
			out = append(out, ev)
		}
	}
	return out
}

// failure returns the events of a probe that failed: library.failure asserts.
func (h *healthEvents) failure(now time.Time, err error) []event.Event {
	if ev, ok := h.change(now, observed{host: h.lib, id: IDLibraryFailure, state: "critical", text: err.Error()}); ok {
		return []event.Event{ev}
	}
	return nil
}

// change records a finding's state and returns its event when the state is news: a
// change, or a first sight that is not ok.
func (h *healthEvents) change(now time.Time, f observed) (event.Event, bool) {
	item := f.host + ":" + f.id
	prev, seen := h.last[item]
	h.last[item] = findingState{host: f.host, finding: f.id, state: f.state}
	switch {
	case !seen && f.state == "ok", seen && prev.state == f.state:
		return event.Event{}, false
	}
	msg := f.text
	if f.state == "ok" {
		msg = fmt.Sprintf("%s back to normal (was %s): %s", f.id, prev.state, f.text)
	}
	if f.host != h.lib {
		msg = "token " + f.host + ": " + msg
	}
	ev := event.Event{Time: now, Host: f.host, Source: event.SourcePKCS11, Message: msg, Input: "pkcs11 " + h.lib,
		Assert: event.TriOf(f.state != "ok")}
	ev.Fields.SetString("finding", f.id)
	ev.Fields.SetString("family", family(f.id))
	ev.Fields.SetString("state", f.state)
	ev.Fields.SetString("item", item)
	ev.Fields.SetString("library", h.lib)
	if seen {
		ev.Fields.SetString("previous", prev.state)
	}
	if f.token != nil {
		ev.Fields.SetString("label", f.token.Label)
		ev.Fields.SetString("serial", f.token.Serial)
		ev.Fields.SetString("slot", strconv.FormatUint(uint64(f.token.Slot), 10))
	}
	if f.percent != nil {
		ev.Fields.SetFloat("percent", round2(*f.percent))
	}
	ev.Raw = fmt.Sprintf("pkcs11 %s %s state=%s", h.lib, item, f.state)
	return ev, true
}

// family is the first part of a finding id: memory, pin, sessions, clock, token, library.
func family(id string) string {
	f, _, _ := strings.Cut(id, ".")
	return f
}

func stateName(s check.Status) string {
	return strings.ToLower(s.String())
}
