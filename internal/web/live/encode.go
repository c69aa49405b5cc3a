package live

import (
	"encoding/json"
	"strconv"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// encodeBatch writes {"events":[...],"alarms":[...]} for one pipeline batch: every
// event, and the alarms its decisions opened, repeated, cleared or held.
func encodeBatch(site string, batch []component.Item) []byte {
	b := make([]byte, 0, 512*len(batch)+64)
	b = append(b, `{"events":[`...)
	for i, it := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSite(b, site)
		// AppendJSON's object always has "raw": its opening brace is dropped and its keys
		// follow "site", as in the API's events.
		n := len(b)
		b = it.Record.Event.AppendJSON(b)
		b = append(b[:n], b[n+1:]...)
	}
	b = append(b, `],"alarms":[`...)
	first := true
	for _, it := range batch {
		for _, a := range decisionAlarms(it.Decision) {
			b = appendAlarm(b, site, a, first)
			first = false
		}
	}
	return append(b, "]}"...)
}

// decisionAlarms lists the alarms a decision changed, in the order they changed: held
// clears that matured before the event, the event's own alarm, the alarms its rule
// clears.
func decisionAlarms(d state.Decision) []*state.Alarm {
	var out []*state.Alarm
	for i := range d.Matured {
		out = append(out, &d.Matured[i])
	}
	switch d.Change {
	case state.Opened, state.Repeated, state.Cleared, state.ClearHeld:
		if d.Alarm != nil {
			out = append(out, d.Alarm)
		}
	}
	for i := range d.AlsoCleared {
		out = append(out, &d.AlsoCleared[i])
	}
	return out
}

// siteAlarm is an alarm as /api/alarms gives it, without the row id.
type siteAlarm struct {
	Site string `json:"site"`
	*state.Alarm
}

func appendAlarm(b []byte, site string, a *state.Alarm, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	j, err := json.Marshal(siteAlarm{site, a})
	if err != nil {
		// A state.Alarm is strings, times, numbers and booleans: this cannot happen,
		// and a half-written batch must not reach a browser if it somehow did.
		return append(b, `{}`...)
	}
	return append(b, j...)
}

func appendSite(b []byte, site string) []byte {
	q, _ := json.Marshal(site) // a string always marshals
	b = append(b, `{"site":`...)
	b = append(b, q...)
	return append(b, ',')
}

// sseFrame is one Server-Sent Events message. data is one line of JSON: encoding/json
// and event.AppendJSON escape every line break inside strings.
func sseFrame(id uint64, name string, data []byte) []byte {
	f := make([]byte, 0, len(data)+48)
	f = append(f, "id: "...)
	f = strconv.AppendUint(f, id, 10)
	f = append(f, "\nevent: "...)
	f = append(f, name...)
	f = append(f, "\ndata: "...)
	f = append(f, data...)
	return append(f, "\n\n"...)
}
