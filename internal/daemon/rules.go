package daemon

import (
	"sync/atomic"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// liveRules is the catalog the state tracker reads rule settings from (alarm keys, clears).
// A reload swaps it together with the pipeline's catalog, so the tracker never looks up a
// rule in a catalog other than the one the event was classified with for longer than the
// batch in flight.
type liveRules struct {
	c atomic.Pointer[classify.Catalog]
}

func (r *liveRules) Rule(id string) (*classify.Rule, bool) { return r.c.Load().Rule(id) }
