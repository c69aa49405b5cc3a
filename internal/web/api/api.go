// Package api serves the event store as JSON over HTTP, for the dashboard and for
// scripts:
//
//	GET /api/events  events, newest first, one page at a time, streamed as the rows are
//	                 read; message and raw clipped; "next" continues a page the limit or
//	                 the byte cap cut
//	GET /api/events/{id}  one event, whole
//	GET /api/alarms  open alarms, or recent ones including cleared
//	GET /api/hsms    one row per HSM: last event, counts by level, open alarms, latest samples,
//	                 its kind (luna, dinamo, pkcs11, snmp) and, for a PKCS#11 token, its slot
//	GET /api/figures the curated health figures per kind, and the words of state values (figures.go)
//	GET /api/samples the history of one HSM's poll samples, oldest first (samples.go)
//	GET /api/rules/{id}  a catalog rule's title, level, meaning and action (rules.go)
//
// Every response is a JSON object. A bad parameter is a 400 whose "error" names it; a
// failure inside is a 500 that says only "internal error" (the details go to the log,
// never to the client).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// Querier is what the API reads; a store.Store is one.
type Querier interface {
	Events(ctx context.Context, f store.EventFilter) (store.EventPage, error)
	// EachEvent reads a page of events one at a time (a listing streams them).
	EachEvent(ctx context.Context, f store.EventFilter, fn func(store.StoredEvent) (bool, error)) (next string, err error)
	Alarms(ctx context.Context, f store.AlarmFilter) ([]store.Alarm, error)
	HSMs(ctx context.Context, f store.HSMFilter) ([]store.HSM, error)
	Samples(ctx context.Context, f store.SampleFilter) (store.SamplePage, error)
}

// Options configure New.
type Options struct {
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock for relative times (since=24h). Default time.Now.
	Now func() time.Time
	// QueryTimeout bounds one request's queries. Default 30s.
	QueryTimeout time.Duration
	// Rules answers /api/rules/{id}; nil answers 404 there.
	Rules Rules
	// Actions carries out the operator actions (actions.go); nil answers 501 there.
	Actions Actions
	// StaleAfter: an open alarm older than this is stale (the state's stale_after;
	// default 24h).
	StaleAfter time.Duration
	// MaxResponseBytes caps the body of a listing of events: the events past it are
	// left out, the answer says "truncated" and its "next" cursor continues with them.
	// Default 4 MiB.
	MaxResponseBytes int
	// BatchBytes is how much of a listing is read from the store before it is written
	// to the client: the store is never held while a slow client reads, and a request
	// holds about this much besides one event's text. Default 256 KiB.
	BatchBytes int
	// ClipBytes clips the message and raw line of each event in a listing (the whole
	// event is at /api/events/{id}). Default 4 KiB.
	ClipBytes int
}

// New returns the handler of the /api/ paths.
func New(q Querier, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 24 * time.Hour
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 4 << 20
	}
	if opts.ClipBytes <= 0 {
		opts.ClipBytes = 4 << 10
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 256 << 10
	}
	h := &handler{q: q, opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/events", h.stream(h.events,
		"host", "component", "level", "since", "until", "q", "site", "limit", "cursor"))
	mux.HandleFunc("/api/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		h.get(h.event(r.PathValue("id"))).ServeHTTP(w, r)
	})
	mux.HandleFunc("/api/alarms", h.get(h.alarms, "open", "host", "site", "limit", "level", "state", "sort"))
	mux.HandleFunc("/api/alarms/{id}/ack", h.action([]string{http.MethodPost}, h.ack))
	mux.HandleFunc("/api/alarms/{id}/close", h.action([]string{http.MethodPost}, h.closeAlarm))
	mux.HandleFunc("/api/silences", h.action([]string{http.MethodGet, http.MethodPost}, h.silences))
	mux.HandleFunc("/api/silences/{id}", h.action([]string{http.MethodDelete}, h.expireSilence))
	mux.HandleFunc("/api/maintenance", h.action([]string{http.MethodGet, http.MethodPost}, h.maintenance))
	mux.HandleFunc("/api/maintenance/{id}", h.action([]string{http.MethodDelete}, h.deleteMaintenance))
	mux.HandleFunc("/api/hsms", h.get(h.hsms, "site"))
	mux.HandleFunc("/api/figures", h.get(h.figures))
	mux.HandleFunc("/api/samples", h.get(h.samples, "host", "metric", "site", "since", "until", "limit"))
	mux.HandleFunc("/api/rules/{id...}", func(w http.ResponseWriter, r *http.Request) {
		h.get(h.rule(r.PathValue("id"))).ServeHTTP(w, r)
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path+" (try /api/events, /api/alarms, /api/hsms, /api/figures, /api/samples, /api/rules/{id}, /api/silences, /api/maintenance)")
	})
	return mux
}

type handler struct {
	q    Querier
	opts Options
}

// endpoint answers one request with a JSON body, or an error.
type endpoint func(ctx context.Context, p *params) ([]byte, error)

// streamEndpoint writes its answer itself, as it reads it. An error it returns before
// it wrote anything is answered as an endpoint's; after, the answer is already under way
// and the endpoint ends it itself.
type streamEndpoint func(ctx context.Context, p *params, w http.ResponseWriter) error

// get wraps an endpoint: GET and HEAD only, only the named parameters (a typo such as
// "hots=" is an error, not a silently wider query), errors sorted into the client's (400,
// with the parameter named) and ours (500, logged).
func (h *handler) get(fn endpoint, allowed ...string) http.HandlerFunc {
	return h.stream(func(ctx context.Context, p *params, w http.ResponseWriter) error {
		ctx, cancel := context.WithTimeout(ctx, h.opts.QueryTimeout)
		defer cancel()
		body, err := fn(ctx, p)
		if err != nil {
			return err
		}
		setJSONHeaders(w)
		w.Write(body)
		return nil
	}, allowed...)
}

// stream wraps a streamEndpoint as get wraps an endpoint; the endpoint bounds its
// queries by QueryTimeout itself (a stream's each).
func (h *handler) stream(fn streamEndpoint, allowed ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use GET")
			return
		}
		p, err := newParams(r.URL.Query(), allowed, h.opts.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		p.path = r.URL.Path
		if err := fn(r.Context(), p, w); err != nil {
			h.fail(w, r, err)
		}
	}
}

// fail answers an endpoint's error: the client's (400, 404) or ours (500, logged).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *paramError
	var nf *notFoundError
	switch {
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, pe.Error())
	case errors.As(err, &nf):
		writeError(w, http.StatusNotFound, nf.Error())
	case errors.Is(err, store.ErrBadCursor):
		writeError(w, http.StatusBadRequest, "cursor: not a cursor this API gave out")
	case r.Context().Err() != nil:
		// The client went away: nobody to answer, nothing wrong on our side.
	case errors.Is(err, context.DeadlineExceeded):
		h.opts.Logger.Warn("api: query timed out", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the query took too long; narrow it (host, level, since)")
	default:
		h.opts.Logger.Error("api: query failed", "path", r.URL.Path, "query", r.URL.RawQuery, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func setJSONHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	setJSONHeaders(w)
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// events answers {"events":[...],"next":"cursor","next_link":"/api/events?...",
// "truncated":true}: each event is its schema v1 object (event.AppendJSON) with two more
// keys first, "id" and "site". next (and next_link, the same request with cursor=next)
// is there whenever more events match: after a full page (limit) as after a page the
// byte cap cut short, which also says "truncated"; a client pages through everything by
// following next until it is left out.
//
// The answer is streamed: events are read from the store in batches of about
// BatchBytes, each written to the client before the next is read, so a request holds
// one batch and one event's text however large the page, and the store is not held
// while a slow client reads.
func (h *handler) events(ctx context.Context, p *params, w http.ResponseWriter) error {
	f := store.EventFilter{Site: p.str("site"), Host: p.str("host"), Component: p.str("component"),
		Text: p.str("q"), Cursor: p.str("cursor")}
	var err error
	if f.MinLevel, err = p.level("level"); err != nil {
		return err
	}
	if f.Since, err = p.time("since"); err != nil {
		return err
	}
	if f.Until, err = p.time("until"); err != nil {
		return err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return &paramError{"until", "must be after since"}
	}
	if f.Limit, err = p.limit("limit"); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = store.DefaultLimit
	}
	// tail is room kept under the cap for what closes the answer: the cursor, its link
	// (the request's own parameters) and the flags.
	tail := 256 + 3*len(p.v.Encode())
	remaining := f.Limit
	sent, events := 0, 0 // bytes written, events written
	buf := append(make([]byte, 0, h.opts.BatchBytes+h.opts.BatchBytes/4), `{"events":[`...)
	started, truncated := false, false
	for {
		f.Limit = remaining
		batchFull := false
		qctx, cancel := context.WithTimeout(ctx, h.opts.QueryTimeout)
		next, err := h.q.EachEvent(qctx, f, func(se store.StoredEvent) (bool, error) {
			n := len(buf)
			if events > 0 {
				buf = append(buf, ',')
			}
			buf = appendEvent(buf, se, h.opts.ClipBytes)
			switch {
			case events > 0 && sent+len(buf)+tail > h.opts.MaxResponseBytes:
				// Over the cap: this event and the rest are for the next request.
				buf, truncated = buf[:n], true
				return false, nil
			case events > 0 && len(buf) > h.opts.BatchBytes && n > 0:
				// The batch is full: written out before more is read.
				buf, batchFull = buf[:n], true
				return false, nil
			}
			events++
			remaining--
			return true, nil
		})
		cancel()
		if err != nil {
			if !started {
				return err
			}
			// The answer is under way: it ends here, well-formed, and its next cursor
			// continues where it stopped.
			if ctx.Err() != nil {
				return nil // the client went away
			}
			h.opts.Logger.Error("api: events: reading a further batch failed", "query", p.v.Encode(), "err", err)
			truncated, next = true, f.Cursor
		}
		last := err != nil || !batchFull || next == "" || remaining == 0
		if last {
			buf = append(buf, ']')
			if truncated {
				buf = append(buf, `,"truncated":true`...)
			}
			if next != "" {
				buf = append(buf, `,"next":`...)
				buf = appendJSONString(buf, next)
				buf = append(buf, `,"next_link":`...)
				buf = appendJSONString(buf, p.link("cursor", next))
			}
			buf = append(buf, "}\n"...)
		}
		if !started {
			setJSONHeaders(w)
			started = true
		}
		if _, err := w.Write(buf); err != nil {
			return nil // the client went away or stopped reading past the write timeout
		}
		if last {
			return nil
		}
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		sent += len(buf)
		buf = buf[:0]
		f.Cursor = next
	}
}

// appendEvent appends one event as the listings give it: its schema v1 object with "id"
// and "site" first; with clip > 0, its message and raw line cut to clip bytes (on a
// character boundary) and "clipped": true when either was.
func appendEvent(b []byte, se store.StoredEvent, clip int) []byte {
	b = fmt.Appendf(b, `{"id":%d,"site":`, se.ID)
	b = appendJSONString(b, se.Site)
	b = append(b, ',')
	e := se.Event
	clipped := false
	if clip > 0 {
		var c1, c2 bool
		e.Message, c1 = clipText(e.Message, clip)
		e.Raw, c2 = clipText(e.Raw, clip)
		clipped = c1 || c2
	}
	if clipped {
		b = append(b, `"clipped":true,`...)
	}
	// AppendJSON always writes at least "raw": its object is never empty, so its
	// opening brace is dropped and its keys follow ours.
	n := len(b)
	b = e.AppendJSON(b)
	return append(b[:n], b[n+1:]...)
}

// clipText cuts s to at most n bytes without splitting a UTF-8 character.
func clipText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// event answers {"event":{...}}: one event, whole, by its id.
func (h *handler) event(idText string) endpoint {
	return func(ctx context.Context, _ *params) ([]byte, error) {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 {
			return nil, &paramError{"id", "want a positive whole number; got " + strconv.Quote(idText)}
		}
		page, err := h.q.Events(ctx, store.EventFilter{ID: id, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(page.Events) == 0 {
			return nil, &notFoundError{"no event " + idText}
		}
		b := appendEvent([]byte(`{"event":`), page.Events[0], 0)
		return append(b, "}\n"...), nil
	}
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// alarms answers {"alarms":[...]}: open=true (the default) lists every open alarm;
// open=false the most recently active ones, open or cleared, newest first (limit, default
// 100). level keeps the alarms of that level or more serious; state keeps the open,
// acknowledged, silenced (a silence or a maintenance window covers it now) or stale
// (open longer than stale_after) ones; sort=age lists the oldest first, sort=level the
// most serious first (then the oldest). Each alarm says whether it is "silenced" (by
// what) and "stale", and carries its "acknowledged" and "closed" actions.
func (h *handler) alarms(ctx context.Context, p *params) ([]byte, error) {
	f := store.AlarmFilter{Site: p.str("site"), Host: p.str("host")}
	var err error
	if f.Open, err = p.boolean("open", true); err != nil {
		return nil, err
	}
	if f.Limit, err = p.limit("limit"); err != nil {
		return nil, err
	}
	minLevel, err := p.level("level")
	if err != nil {
		return nil, err
	}
	st := p.str("state")
	if st != "" && !slices.Contains(alarmStates, st) {
		return nil, errField("state", "must be one of %s; got %q", strings.Join(alarmStates, ", "), st)
	}
	sortBy := p.str("sort")
	if sortBy != "" && sortBy != "age" && sortBy != "level" {
		return nil, errField("sort", "must be age or level; got %q", sortBy)
	}
	as, err := h.q.Alarms(ctx, f)
	if err != nil {
		return nil, err
	}
	if minLevel != "" {
		rank := slices.Index(store.Levels(), minLevel)
		as = slices.DeleteFunc(as, func(a store.Alarm) bool {
			r := slices.Index(store.Levels(), a.Level)
			return r < 0 || r > rank
		})
	}
	vs, err := h.mark(ctx, as, st)
	if err != nil {
		return nil, err
	}
	if sortBy != "" {
		sortAlarms(vs, sortBy)
	}
	return marshal(struct {
		Alarms []alarmView `json:"alarms"`
	}{vs})
}

// hsms answers {"hsms":[...]}.
func (h *handler) hsms(ctx context.Context, p *params) ([]byte, error) {
	hs, err := h.q.HSMs(ctx, store.HSMFilter{Site: p.str("site")})
	if err != nil {
		return nil, err
	}
	return marshal(struct {
		HSMs []hsmView `json:"hsms"`
	}{viewHSMs(hs)})
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("api: encode: %w", err)
	}
	return append(b, '\n'), nil
}
