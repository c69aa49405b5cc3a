package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/actions"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// Operator actions (POST, DELETE; JSON bodies):
//
//	POST   /api/alarms/{id}/ack     {"comment": "...", "by": "..."}  acknowledge an open alarm
//	POST   /api/alarms/{id}/close   {"comment": "...", "by": "..."}  close an alarm by hand
//	GET    /api/silences            silences in force or to come (all=true: every one)
//	POST   /api/silences            {"host","rule","level" (globs), "starts", "ends" or "duration", "comment", "by"}
//	DELETE /api/silences/{id}       expire a silence now
//	GET    /api/maintenance         maintenance windows
//	POST   /api/maintenance         {"host", "weekdays", "start", "duration", "zone", "comment", "by"}
//	DELETE /api/maintenance/{id}    delete a window
//
// A mistake in the body is a 400 whose "error" starts with the field's name; an unknown
// id a 404; acknowledging a closed alarm a 409.

// ActorHeader names who acts when the body has no "by".
const ActorHeader = "X-Hsmwatch-Actor"

// actorKey is the context key of the authenticated actor (WithActor).
type actorKey struct{}

// WithActor returns ctx carrying the authenticated name of who makes the request: the
// authentication in front of the API (internal/web/guard) sets it.
func WithActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, actorKey{}, name)
}

// Actor returns who makes a request: the authenticated user when the server
// authenticates its clients (WithActor; a stated name, in the header or the body, is then
// ignored), else the ActorHeader as the client states it.
func Actor(r *http.Request) string {
	if a, ok := r.Context().Value(actorKey{}).(string); ok {
		return a
	}
	return strings.TrimSpace(r.Header.Get(ActorHeader))
}

// Actions carries out operator actions; a store.Store is one (the actions are recorded
// and nothing else), the daemon's is another (an acknowledgement or a close also reaches
// the state tracker through the pipeline's goroutine, and the silences in force are
// reloaded into the pipeline).
type Actions interface {
	Acknowledge(ctx context.Context, id int64, a store.Action) (store.Alarm, error)
	CloseAlarm(ctx context.Context, id int64, a store.Action) (store.Alarm, error)
	AddSilence(ctx context.Context, s store.Silence) (store.Silence, error)
	Silences(ctx context.Context, f store.SilenceFilter) ([]store.Silence, error)
	ExpireSilence(ctx context.Context, id int64, a store.Action) (store.Silence, error)
	AddMaintenance(ctx context.Context, m store.Maintenance) (store.Maintenance, error)
	Maintenances(ctx context.Context, site string) ([]store.Maintenance, error)
	DeleteMaintenance(ctx context.Context, id int64) error
}

// maxBody bounds an action's JSON body.
const maxBody = 64 << 10

// action wraps a handler of an operator action: the methods it takes, the Actions
// present, errors sorted as get does, plus 404 and 409.
func (h *handler) action(methods []string, fn func(ctx context.Context, r *http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(methods, r.Method) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use "+strings.Join(methods, " or "))
			return
		}
		if h.opts.Actions == nil {
			writeError(w, http.StatusNotImplemented, "this server records no operator actions")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.QueryTimeout)
		defer cancel()
		status, v, err := fn(ctx, r)
		var fe *actions.FieldError
		var pe *paramError
		switch {
		case err == nil:
			b, err := marshal(v)
			if err != nil {
				h.opts.Logger.Error("api: encode", "path", r.URL.Path, "err", err)
				writeError(w, http.StatusInternalServerError, "internal error")
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(status)
			w.Write(b)
		case errors.As(err, &fe):
			writeError(w, http.StatusBadRequest, fe.Error())
		case errors.As(err, &pe):
			writeError(w, http.StatusBadRequest, pe.Error())
		case errors.Is(err, store.ErrNotFound):
			writeError(w, http.StatusNotFound, "no such id: "+r.PathValue("id"))
		case errors.Is(err, store.ErrAlarmClosed):
			writeError(w, http.StatusConflict, "the alarm is closed: only an open alarm can be acknowledged")
		case r.Context().Err() != nil:
		default:
			h.opts.Logger.Error("api: action failed", "path", r.URL.Path, "err", err)
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}
}

// decode reads a JSON body strictly: an unknown field or a wrong type is an error naming
// the field.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &actions.FieldError{Field: "body", Msg: "want Content-Type application/json; got " + strconv.Quote(ct)}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return &actions.FieldError{Field: "body", Msg: "empty: want a JSON object"}
	case errors.As(err, &te) && te.Field != "":
		return &actions.FieldError{Field: te.Field, Msg: "want a " + te.Type.String() + ", got a JSON " + te.Value}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &actions.FieldError{Field: name, Msg: "unknown field"}
	}
	var fe *fieldDecodeError
	if errors.As(err, &fe) {
		return &actions.FieldError{Field: fe.field, Msg: fe.err.Error()}
	}
	return &actions.FieldError{Field: "body", Msg: "not valid JSON: " + err.Error()}
}

// fieldDecodeError is a value of one field that does not read (a time, a duration).
type fieldDecodeError struct {
	field string
	err   error
}

func (e *fieldDecodeError) Error() string { return e.field + ": " + e.err.Error() }

// jsonTime reads RFC 3339 text, naming the field on error.
func jsonTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &actions.FieldError{Field: field, Msg: "want an RFC 3339 time (2026-03-01T12:00:00Z); got " + strconv.Quote(s)}
	}
	return t, nil
}

func jsonDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := parseAgo(s); ok {
		return d, nil
	}
	return 0, &actions.FieldError{Field: field, Msg: "want a positive duration (90m, 2h, 7d); got " + strconv.Quote(s)}
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &paramError{"id", "want a positive whole number; got " + strconv.Quote(r.PathValue("id"))}
	}
	return id, nil
}

// actionBody is the body of an acknowledgement or a close.
type actionBody struct {
	By      string `json:"by"`
	Comment string `json:"comment"`
}

// who is the actor of a request: the authenticated one (Actor), else the body's.
func who(r *http.Request, body string) string {
	if a := Actor(r); a != "" {
		return a
	}
	return strings.TrimSpace(body)
}

func (h *handler) readAction(r *http.Request, needComment bool) (int64, store.Action, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, store.Action{}, err
	}
	var b actionBody
	if r.ContentLength != 0 {
		if err := decode(r, &b); err != nil {
			return 0, store.Action{}, err
		}
	}
	a := store.Action{By: who(r, b.By), At: h.opts.Now(), Comment: strings.TrimSpace(b.Comment)}
	if err := actions.CheckAction(a); err != nil {
		return 0, a, err
	}
	if needComment && a.Comment == "" {
		return 0, a, &actions.FieldError{Field: "comment", Msg: "required: say why the alarm is closed by hand"}
	}
	return id, a, nil
}

func (h *handler) ack(ctx context.Context, r *http.Request) (int, any, error) {
	id, a, err := h.readAction(r, false)
	if err != nil {
		return 0, nil, err
	}
	al, err := h.opts.Actions.Acknowledge(ctx, id, a)
	return http.StatusOK, al, err
}

func (h *handler) closeAlarm(ctx context.Context, r *http.Request) (int, any, error) {
	id, a, err := h.readAction(r, true)
	if err != nil {
		return 0, nil, err
	}
	al, err := h.opts.Actions.CloseAlarm(ctx, id, a)
	return http.StatusOK, al, err
}

type silenceBody struct {
	Host     string `json:"host"`
	Rule     string `json:"rule"`
	Level    string `json:"level"`
	Starts   string `json:"starts"`
	Ends     string `json:"ends"`
	Duration string `json:"duration"`
	Comment  string `json:"comment"`
	By       string `json:"by"`
}

func (h *handler) silences(ctx context.Context, r *http.Request) (int, any, error) {
	if r.Method == http.MethodPost {
		return h.addSilence(ctx, r)
	}
	p, err := newParams(r.URL.Query(), []string{"all", "site"}, h.opts.Now())
	if err != nil {
		return 0, nil, err
	}
	all, err := p.boolean("all", false)
	if err != nil {
		return 0, nil, err
	}
	f := store.SilenceFilter{Site: p.str("site"), Limit: store.MaxLimit}
	if !all {
		f.EndsAfter = h.opts.Now()
	}
	ss, err := h.opts.Actions.Silences(ctx, f)
	if ss == nil {
		ss = []store.Silence{}
	}
	return http.StatusOK, struct {
		Silences []store.Silence `json:"silences"`
	}{ss}, err
}

func (h *handler) addSilence(ctx context.Context, r *http.Request) (int, any, error) {
	var b silenceBody
	if err := decode(r, &b); err != nil {
		return 0, nil, err
	}
	now := h.opts.Now()
	s := store.Silence{Host: strings.TrimSpace(b.Host), Rule: strings.TrimSpace(b.Rule), Level: strings.ToLower(strings.TrimSpace(b.Level)),
		CreatedBy: who(r, b.By), CreatedAt: now, Comment: strings.TrimSpace(b.Comment)}
	var err error
	if s.Starts, err = jsonTime("starts", b.Starts); err != nil {
		return 0, nil, err
	}
	if s.Starts.IsZero() {
		s.Starts = now
	}
	if s.Ends, err = jsonTime("ends", b.Ends); err != nil {
		return 0, nil, err
	}
	d, err := jsonDuration("duration", b.Duration)
	switch {
	case err != nil:
		return 0, nil, err
	case d > 0 && !s.Ends.IsZero():
		return 0, nil, &actions.FieldError{Field: "duration", Msg: "give ends or duration, not both"}
	case d > 0:
		s.Ends = s.Starts.Add(d)
	case s.Ends.IsZero():
		return 0, nil, &actions.FieldError{Field: "ends", Msg: "required: give ends (RFC 3339) or duration (2h)"}
	}
	if err := actions.CheckSilence(s); err != nil {
		return 0, nil, err
	}
	if s.Comment == "" {
		return 0, nil, &actions.FieldError{Field: "comment", Msg: "required: say why events are silenced"}
	}
	if !s.Ends.After(now) {
		return 0, nil, &actions.FieldError{Field: "ends", Msg: "already past"}
	}
	out, err := h.opts.Actions.AddSilence(ctx, s)
	return http.StatusCreated, out, err
}

func (h *handler) expireSilence(ctx context.Context, r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	a := store.Action{By: who(r, r.URL.Query().Get("by")), At: h.opts.Now()}
	if err := actions.CheckAction(a); err != nil {
		return 0, nil, err
	}
	s, err := h.opts.Actions.ExpireSilence(ctx, id, a)
	return http.StatusOK, s, err
}

type maintenanceBody struct {
	Host     string   `json:"host"`
	Weekdays []string `json:"weekdays"`
	Start    string   `json:"start"`
	Duration string   `json:"duration"`
	Zone     string   `json:"zone"`
	Comment  string   `json:"comment"`
	By       string   `json:"by"`
}

func (h *handler) maintenance(ctx context.Context, r *http.Request) (int, any, error) {
	if r.Method == http.MethodPost {
		return h.addMaintenance(ctx, r)
	}
	p, err := newParams(r.URL.Query(), []string{"site"}, h.opts.Now())
	if err != nil {
		return 0, nil, err
	}
	ms, err := h.opts.Actions.Maintenances(ctx, p.str("site"))
	if ms == nil {
		ms = []store.Maintenance{}
	}
	return http.StatusOK, struct {
		Maintenance []store.Maintenance `json:"maintenance"`
	}{ms}, err
}

func (h *handler) addMaintenance(ctx context.Context, r *http.Request) (int, any, error) {
	var b maintenanceBody
	if err := decode(r, &b); err != nil {
		return 0, nil, err
	}
	d, err := jsonDuration("duration", b.Duration)
	if err != nil {
		return 0, nil, err
	}
	m := store.Maintenance{Host: strings.TrimSpace(b.Host), Weekdays: b.Weekdays, Start: strings.TrimSpace(b.Start),
		Duration: store.Span(d), Zone: strings.TrimSpace(b.Zone), CreatedBy: who(r, b.By), CreatedAt: h.opts.Now(),
		Comment: strings.TrimSpace(b.Comment)}
	if err := actions.CheckMaintenance(&m); err != nil {
		return 0, nil, err
	}
	out, err := h.opts.Actions.AddMaintenance(ctx, m)
	return http.StatusCreated, out, err
}

func (h *handler) deleteMaintenance(ctx context.Context, r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	if err := actions.CheckAction(store.Action{By: who(r, r.URL.Query().Get("by"))}); err != nil {
		return 0, nil, err
	}
	if err := h.opts.Actions.DeleteMaintenance(ctx, id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"deleted": id}, nil
}

// alarmView is an alarm as GET /api/alarms shows it: the stored alarm, plus what covers
// it now (Silenced names a silence or a maintenance window) and whether it is stale
// (open longer than the state's stale_after).
type alarmView struct {
	store.Alarm
	Silenced string `json:"silenced,omitempty"`
	Stale    bool   `json:"stale,omitempty"`
	// Clipped says the message was cut to the listing's clip size, as in event listings:
	// an alarm's message is its latest assert's, as long as the line that said it.
	Clipped bool `json:"clipped,omitempty"`
}

// alarmStates are the values of GET /api/alarms?state=.
var alarmStates = []string{"open", "acknowledged", "silenced", "stale"}

// mark fills in silenced and stale, and keeps the alarms of the state asked for.
func (h *handler) mark(ctx context.Context, as []store.Alarm, stateName string) ([]alarmView, error) {
	now := h.opts.Now()
	mutes := map[string]*actions.Mutes{}
	if h.opts.Actions != nil {
		ss, err := h.opts.Actions.Silences(ctx, store.SilenceFilter{EndsAfter: now, Limit: store.MaxLimit})
		if err != nil {
			return nil, err
		}
		ms, err := h.opts.Actions.Maintenances(ctx, "")
		if err != nil {
			return nil, err
		}
		bySite := map[string][]store.Silence{}
		for _, s := range ss {
			bySite[s.Site] = append(bySite[s.Site], s)
		}
		wBySite := map[string][]store.Maintenance{}
		for _, m := range ms {
			wBySite[m.Site] = append(wBySite[m.Site], m)
		}
		for _, a := range as {
			if _, ok := mutes[a.Site]; !ok {
				mutes[a.Site], _ = actions.NewMutes(bySite[a.Site], wBySite[a.Site]) // a bad window is left out
			}
		}
	}
	out := make([]alarmView, 0, len(as))
	for _, a := range as {
		v := alarmView{Alarm: a}
		v.Message, v.Clipped = clipText(a.Message, h.opts.ClipBytes)
		open := a.Cleared.IsZero()
		if open {
			v.Silenced, _ = mutes[a.Site].Muted(a.Host, a.Rule, a.Level, now)
			v.Stale = !a.Opened.After(now.Add(-h.opts.StaleAfter))
		}
		keep := true
		switch stateName {
		case "open":
			keep = open
		case "acknowledged":
			keep = open && a.Acknowledged != nil
		case "silenced":
			keep = v.Silenced != ""
		case "stale":
			keep = v.Stale
		}
		if keep {
			out = append(out, v)
		}
	}
	return out, nil
}

// sortAlarms orders by age (oldest first) or level (most serious first, then oldest).
func sortAlarms(vs []alarmView, by string) {
	rank := func(l string) int { return slices.Index(store.Levels(), l) } // critical 0 .. debug 5, unknown -1
	slices.SortStableFunc(vs, func(a, b alarmView) int {
		if by == "level" {
			ra, rb := rank(a.Level), rank(b.Level)
			if ra < 0 {
				ra = 99
			}
			if rb < 0 {
				rb = 99
			}
			if ra != rb {
				return ra - rb
			}
		}
		return a.Opened.Compare(b.Opened)
	})
}

func errField(field, msg string, args ...any) error {
	return &paramError{field, fmt.Sprintf(msg, args...)}
}
