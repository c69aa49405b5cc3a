package actions

import (
	"errors"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

func TestMutes(t *testing.T) {
	t0 := time.Date(2026, 3, 7, 21, 0, 0, 0, time.UTC) // a Saturday, 22:00 in Paris
	m, err := NewMutes(
		[]store.Silence{{ID: 1, Host: "LUNA*", Rule: "luna.ipmi.*", Starts: t0, Ends: t0.Add(time.Hour)}},
		[]store.Maintenance{{ID: 2, Host: "dinamo1", Weekdays: []string{"sat"}, Start: "23:30",
			Duration: store.Span(2 * time.Hour), Zone: "Europe/Paris"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, rule, level string
		at                time.Time
		want              string
	}{
		{"luna1", "luna.ipmi.fan", "critical", t0, "silence 1"},
		{"luna1", "luna.ipmi.fan", "critical", t0.Add(time.Hour), ""}, // ends is exclusive
		{"luna1", "luna.ntls.x", "critical", t0, ""},
		{"other", "luna.ipmi.fan", "critical", t0, ""},
		{"dinamo1", "x", "info", t0.Add(89 * time.Minute), ""},
		{"dinamo1", "x", "info", t0.Add(90 * time.Minute), "maintenance 2"},
		{"dinamo1", "x", "info", t0.Add(3*time.Hour + 29*time.Minute), "maintenance 2"}, // past midnight, Sunday
		{"dinamo1", "x", "info", t0.Add(3*time.Hour + 30*time.Minute), ""},
		{"dinamo1", "x", "info", t0.Add(7*24*time.Hour + 2*time.Hour), "maintenance 2"}, // next week
		{"dinamo1", "x", "info", t0.Add(24*time.Hour + 2*time.Hour), ""},                // Sunday night
	} {
		got, _ := m.Muted(tc.host, tc.rule, tc.level, tc.at)
		if got != tc.want {
			t.Errorf("%s %s at %s: %q, want %q", tc.host, tc.rule, tc.at, got, tc.want)
		}
	}
}

func TestChecks(t *testing.T) {
	now := time.Now()
	field := func(err error) string {
		var fe *FieldError
		if !errors.As(err, &fe) {
			return "<" + err.Error() + ">"
		}
		return fe.Field
	}
	for _, tc := range []struct {
		s    store.Silence
		want string
	}{
		{store.Silence{Starts: now, Ends: now.Add(time.Hour), CreatedBy: "a"}, "host"},
		{store.Silence{Host: "[", Starts: now, Ends: now.Add(time.Hour), CreatedBy: "a"}, "host"},
		{store.Silence{Host: "h", Starts: now, Ends: now, CreatedBy: "a"}, "ends"},
		{store.Silence{Host: "h", Starts: now, Ends: now.Add(time.Hour)}, "by"},
	} {
		if got := field(CheckSilence(tc.s)); got != tc.want {
			t.Errorf("%+v: field %s, want %s", tc.s, got, tc.want)
		}
	}
	ok := store.Maintenance{Host: "h", Weekdays: []string{"Monday"}, Start: "01:00", Duration: store.Span(time.Hour), CreatedBy: "a"}
	if err := CheckMaintenance(&ok); err != nil || ok.Weekdays[0] != "mon" {
		t.Errorf("a good window: %v %v", err, ok.Weekdays)
	}
	for _, tc := range []struct {
		m    store.Maintenance
		want string
	}{
		{store.Maintenance{Host: "h", Weekdays: []string{"xyz"}, Start: "01:00", Duration: store.Span(time.Hour), CreatedBy: "a"}, "weekdays"},
		{store.Maintenance{Host: "h", Start: "1:00", Duration: store.Span(time.Hour), CreatedBy: "a"}, "start"},
		{store.Maintenance{Host: "h", Start: "01:00", CreatedBy: "a"}, "duration"},
		{store.Maintenance{Host: "h", Start: "01:00", Duration: store.Span(time.Hour), Zone: "Mars/Base", CreatedBy: "a"}, "zone"},
		{store.Maintenance{Start: "01:00", Duration: store.Span(time.Hour), CreatedBy: "a"}, "host"},
	} {
		if got := field(CheckMaintenance(&tc.m)); got != tc.want {
			t.Errorf("%+v: field %s, want %s", tc.m, got, tc.want)
		}
	}
}
