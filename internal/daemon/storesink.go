package daemon

import (
	"context"
	"fmt"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// storeSink is the pipeline's durable sink: it writes the batch's records (the store
// skips a Key it already holds, so a line re-read after a crash is kept once, and marks
// it replayed so that the other sinks do not get it twice) and the alarm changes the
// state tracker decided, and the hosts it renamed, in one transaction (store.WriteBatch:
// one commit per batch, and a failed batch retried whole). The pipeline acknowledges the
// records to their sources only after Write returned nil.
type storeSink struct{ st store.Store }

func (s storeSink) Name() string { return "store" }

func (s storeSink) Write(ctx context.Context, batch []component.Item) error {
	recs := make([]component.Record, len(batch))
	keyed := false
	var alarms []state.Alarm
	var renames [][2]string
	for i, it := range batch {
		recs[i] = it.Record
		keyed = keyed || it.Record.Key != ""
		d := it.Decision
		if d.Alarm != nil {
			alarms = append(alarms, *d.Alarm)
		}
		alarms = append(alarms, d.AlsoCleared...)
		alarms = append(alarms, d.Matured...)
		for _, m := range d.Moved { // the old host/key row closes, the alarm goes on under the new
			alarms = append(alarms, m.From, m.To)
		}
		if from := it.Record.Event.Fields.Text(state.FieldRenamedFrom); from != "" && it.Record.Event.Source == event.SourceSelf {
			renames = append(renames, [2]string{from, it.Record.Event.Host})
		}
	}
	replayed, err := s.st.WriteBatch(ctx, store.Batch{Records: recs, Renames: renames, Alarms: alarms})
	if err != nil {
		return fmt.Errorf("store batch: %w", err)
	}
	if keyed { // only a keyed record (a file's line) can be read twice
		for i := range batch {
			batch[i].Replayed = replayed[i]
		}
	}
	return nil
}
