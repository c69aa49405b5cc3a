package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/actions"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/web/api"
)

// operator carries out the operator actions of the API (it is the API's api.Actions):
// the store records them; an acknowledgement or a close also reaches the state tracker
// and the sinks through the pipeline's goroutine (pipeline.Inject), the only one that
// may touch the tracker; a change of the silences or windows reloads the snapshot the
// pipeline marks the events with.
type operator struct {
	st   store.Store
	pipe *pipeline.Pipeline
	tr   *state.Tracker
	log  *slog.Logger

	mutes atomic.Pointer[actions.Mutes]
	// acked holds the open alarms an operator acknowledged (host NUL key); only the
	// pipeline's goroutine touches it (mark, and the functions given to Inject), and
	// New before the pipeline runs.
	acked map[string]bool
}

var _ api.Actions = (*operator)(nil)

func alarmRef(host, key string) string { return host + "\x00" + key }

// load reads the acknowledged open alarms and the silences and windows in force; it
// runs before the pipeline does.
func (o *operator) load(ctx context.Context) error {
	o.acked = map[string]bool{}
	open, err := o.st.Alarms(ctx, store.AlarmFilter{Site: o.st.Site(), Open: true})
	if err != nil {
		return fmt.Errorf("operator actions: %w", err)
	}
	for _, a := range open {
		if a.Acknowledged != nil {
			o.acked[alarmRef(a.Host, a.Key)] = true
		}
	}
	return o.refresh(ctx)
}

// refresh reloads the silences and maintenance windows of the store's site.
func (o *operator) refresh(ctx context.Context) error {
	ss, err := o.st.Silences(ctx, store.SilenceFilter{Site: o.st.Site(), EndsAfter: time.Now(), Limit: store.MaxLimit})
	if err != nil {
		return fmt.Errorf("operator actions: silences: %w", err)
	}
	ms, err := o.st.Maintenances(ctx, o.st.Site())
	if err != nil {
		return fmt.Errorf("operator actions: maintenance windows: %w", err)
	}
	m, err := actions.NewMutes(ss, ms)
	if err != nil {
		o.log.Warn("a maintenance window is left out", "err", err)
	}
	o.mutes.Store(m)
	return nil
}

// mark is the pipeline's Config.Mark: it marks an item silenced when a silence or a
// maintenance window covers its event now, and acknowledged when it repeats an
// acknowledged alarm. A clear that closes an alarm is never silenced: the sinks that
// saw the alarm open must see it close.
func (o *operator) mark(it *pipeline.Item, now time.Time) {
	d := &it.Decision
	if d.Alarm != nil {
		ref := alarmRef(d.Alarm.Host, d.Alarm.Key)
		switch d.Change {
		case state.Opened, state.Cleared:
			delete(o.acked, ref) // a new occurrence is not acknowledged
		case state.Repeated:
			d.Acknowledged = o.acked[ref]
		}
	}
	for _, as := range [][]state.Alarm{d.AlsoCleared, d.Matured} {
		for _, a := range as {
			delete(o.acked, alarmRef(a.Host, a.Key))
		}
	}
	if d.Change == state.Cleared {
		return
	}
	ev := it.Record.Event
	if by, ok := o.mutes.Load().Muted(ev.Host, ev.Rule, ev.Level, now); ok {
		d.Silenced, d.MutedBy = true, by
	}
}

// actionEvent is the event that records an operator's action in the timeline (stored,
// shown live on the dashboard).
func actionEvent(a store.Alarm, act store.Action, title, verb string) *event.Event {
	msg := fmt.Sprintf("alarm %s of %s %s by %s", a.Key, a.Host, verb, act.By)
	if act.Comment != "" {
		msg += ": " + act.Comment
	}
	ev := &event.Event{Time: act.At, Host: a.Host, Source: event.SourceSelf, Process: "hsmwatch",
		Component: a.Component, Level: "info", Severity: "info", Title: title, Message: msg, Input: "operator"}
	ev.Raw = msg
	ev.Fields.SetString("alarm_key", a.Key)
	ev.Fields.SetString("alarm_rule", a.Rule)
	ev.Fields.SetString("actor", act.By)
	return ev
}

// trackedAlarm returns the tracker's copy of an open alarm (pipeline goroutine only).
func (o *operator) trackedAlarm(host, key string) (state.Alarm, bool) {
	for _, a := range o.tr.Active() {
		if a.Host == host && a.Key == key {
			return a, true
		}
	}
	return state.Alarm{}, false
}

// Acknowledge records the acknowledgement, and from then on marks the alarm's repeats
// acknowledged: the queues keep them from the sinks, Alertmanager labels the alert.
func (o *operator) Acknowledge(ctx context.Context, id int64, act store.Action) (store.Alarm, error) {
	out, err := o.apply(ctx, []alarmAction{{id: id, act: act}})
	if err != nil { // the function may not have run: out is not read
		return store.Alarm{}, fmt.Errorf("acknowledge alarm %d: %w", id, err)
	}
	return out[0].al, out[0].err
}

// CloseAlarm closes an alarm by hand in the store and in the state tracker (a later
// assert opens a new alarm), and tells the sinks it cleared (Alertmanager resolves it).
func (o *operator) CloseAlarm(ctx context.Context, id int64, act store.Action) (store.Alarm, error) {
	out, err := o.apply(ctx, []alarmAction{{id: id, act: act, close: true}})
	if err != nil { // the function may not have run: out is not read
		return store.Alarm{}, fmt.Errorf("close alarm %d: %w", id, err)
	}
	return out[0].al, out[0].err
}

// alarmAction is one acknowledgement or manual close, and its outcome.
type alarmAction struct {
	id    int64
	act   store.Action
	close bool
	al    store.Alarm
	err   error
}

// apply carries out the actions in one pass on the pipeline's goroutine: the store
// records each, the tracker and the sinks learn of it, and the items of all of them are
// flushed as one batch (the demo's operator acts on several alarms at once).
func (o *operator) apply(ctx context.Context, acts []alarmAction) ([]alarmAction, error) {
	err := o.pipe.Inject(ctx, func() []pipeline.Item {
		var items []pipeline.Item
		for i := range acts {
			a := &acts[i]
			if a.close {
				if a.al, a.err = o.st.CloseAlarm(ctx, a.id, a.act); a.err != nil {
					continue
				}
				al := a.al
				delete(o.acked, alarmRef(al.Host, al.Key))
				it := pipeline.Item{Record: component.Record{Event: actionEvent(al, a.act, "Alarm closed by hand", "closed")}}
				it.Record.Event.Assert = event.False
				it.Record.Event.Notification = al.Notification
				if ta, ok := o.tr.Close(al.Host, al.Key, store.ClearedByOperator, a.act.At); ok {
					// The stored row is closed already; the same occurrence makes the store's
					// write of this change a no-op.
					ta.Opened = al.Opened
					it.Decision = state.Decision{Change: state.Cleared, Alarm: &ta}
				}
				items = append(items, it)
				continue
			}
			if a.al, a.err = o.st.Acknowledge(ctx, a.id, a.act); a.err != nil {
				continue
			}
			al := a.al
			o.acked[alarmRef(al.Host, al.Key)] = true
			it := pipeline.Item{Record: component.Record{Event: actionEvent(al, a.act, "Alarm acknowledged", "acknowledged")}}
			if ta, ok := o.trackedAlarm(al.Host, al.Key); ok {
				ta.Opened = al.Opened // the stored row's occurrence (a restarted tracker opened it later)
				it.Decision = state.Decision{Change: state.Repeated, Alarm: &ta, Acknowledged: true}
			}
			items = append(items, it)
		}
		return items
	})
	return acts, err
}

func (o *operator) changed(ctx context.Context) {
	if err := o.refresh(ctx); err != nil {
		o.log.Error("the silences in force were not reloaded; they apply from the next change or restart", "err", err)
	}
}

func (o *operator) AddSilence(ctx context.Context, s store.Silence) (store.Silence, error) {
	out, err := o.st.AddSilence(ctx, s)
	if err == nil {
		o.log.Info("silence added", "id", out.ID, "host", out.Host, "rule", out.Rule, "level", out.Level,
			"starts", out.Starts, "ends", out.Ends, "by", out.CreatedBy)
		o.changed(ctx)
	}
	return out, err
}

func (o *operator) Silences(ctx context.Context, f store.SilenceFilter) ([]store.Silence, error) {
	return o.st.Silences(ctx, f)
}

func (o *operator) ExpireSilence(ctx context.Context, id int64, a store.Action) (store.Silence, error) {
	out, err := o.st.ExpireSilence(ctx, id, a)
	if err == nil {
		o.log.Info("silence expired", "id", id, "by", a.By)
		o.changed(ctx)
	}
	return out, err
}

func (o *operator) AddMaintenance(ctx context.Context, m store.Maintenance) (store.Maintenance, error) {
	out, err := o.st.AddMaintenance(ctx, m)
	if err == nil {
		o.log.Info("maintenance window added", "id", out.ID, "host", out.Host, "weekdays", out.Weekdays,
			"start", out.Start, "duration", time.Duration(out.Duration), "zone", out.Zone, "by", out.CreatedBy)
		o.changed(ctx)
	}
	return out, err
}

func (o *operator) Maintenances(ctx context.Context, site string) ([]store.Maintenance, error) {
	return o.st.Maintenances(ctx, site)
}

func (o *operator) DeleteMaintenance(ctx context.Context, id int64) error {
	err := o.st.DeleteMaintenance(ctx, id)
	if err == nil {
		o.log.Info("maintenance window deleted", "id", id)
		o.changed(ctx)
	}
	return err
}
