package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// browser is a headless Chromium tab (Debian's chromium package) with what its pages
// reported: uncaught exceptions and console or CSP errors.
type browser struct {
	ctx       context.Context
	artifacts string

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := testutil.NeedTool(t, "chromium", "chromium") // CI=true fails without it, else skips
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute) // the whole browser session
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})

	b := &browser{ctx: ctx, artifacts: os.Getenv("HSMWATCH_ARTIFACTS")}
	if b.artifacts == "" {
		b.artifacts = t.TempDir()
	} else if err := os.MkdirAll(b.artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				p += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				p = "console.error"
				for _, a := range ev.Args {
					p += " " + string(a.Value)
				}
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p = "log: " + ev.Entry.Text + " " + ev.Entry.URL
			}
		}
		if p != "" {
			b.mu.Lock()
			b.problems = append(b.problems, p)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// do runs steps within a deadline; on failure it keeps a screenshot of the page.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot(t, "failed-"+strings.ReplaceAll(what, " ", "-"))
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

// waitFor polls a JavaScript predicate until it holds (deadline 15s).
func (b *browser) waitFor(t *testing.T, what, predicate string) {
	t.Helper()
	b.do(t, what, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(15*time.Second),
			chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
		return chromedp.Void{}, err
	})
}

// eval evaluates an expression.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// screenshot keeps a full-page PNG as a test artefact.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.artifacts, "dashboard-"+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", p)
}

func (b *browser) noProblems(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("the page reported: %s", p)
	}
}

// js quotes a Go string for a JavaScript expression.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestDashboardInChromium drives the dashboard in headless Chromium against a daemon
// whose store holds the example fleet log: the fleet, the alarms, a search in the
// timeline, an event's detail with its rule's meaning and action, an HSM's charts, and a
// live event arriving without a reload.
func TestDashboardInChromium(t *testing.T) {
	d := startDaemon(t)
	d.ingest(t, "hsm-fleet.log", readLines(t, "hsm-fleet.log")...)
	d.putSamples(t, "myLuna", "lunaC")
	all, err := d.store.Events(context.Background(), store.EventFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	fan, err := d.store.Events(context.Background(), store.EventFilter{Text: "Fan3B", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(fan.Events) == 0 || len(fan.Events) >= len(all.Events) {
		t.Fatalf("the search must narrow the timeline: %d of %d events mention Fan3B", len(fan.Events), len(all.Events))
	}
	rule, ok := d.catalog.Rule("luna.ipmi.fan-lnr-going-low")
	if !ok || rule.Meaning == "" || rule.Action == "" {
		t.Fatal("the shipped catalog lost luna.ipmi.fan-lnr-going-low's meaning or action")
	}
	b := newBrowser(t)

	// The fleet: a card per HSM, myLuna's critical with its key figures drawn.
	b.do(t, "open the dashboard", chromedp.Navigate(d.srv.URL+"/#/fleet"))
	b.waitFor(t, "fleet cards", `['myLuna', 'lunaB', 'lunaC', '172.17.0.2'].every((h) =>
		document.querySelector('#fleet-cards .card[data-host="' + h + '"]'))`)
	b.waitFor(t, "myLuna's card", `(() => {
		const c = document.querySelector('#fleet-cards .card[data-host="myLuna"]');
		return c.dataset.level === 'critical' && /more open alarms/.test(c.querySelector('.alarms-count').textContent) &&
			c.querySelectorAll('.figures svg.spark path.line').length === 4 &&
			c.querySelector('.figures').textContent.includes('Memory used');
	})()`)
	if got := eval[string](t, b, `document.querySelector('.card[data-host="lunaB"]').dataset.level`); got == "critical" {
		t.Errorf("lunaB has no open alarm, its card says %q", got)
	}
	b.screenshot(t, "fleet")

	// The alarm list: the open critical alarm of myLuna, and the power supply alarm its
	// de-assert cleared.
	b.do(t, "open the alarms", chromedp.Click(chromedp.CSS(`a[data-view="alarms"]`)))
	b.waitFor(t, "an open critical alarm", `[...document.querySelectorAll('#alarms-open tbody tr[data-level="critical"]')]
		.some((tr) => tr.dataset.host === 'myLuna' && tr.textContent.includes('Fan3B'))`)
	b.waitFor(t, "a cleared alarm", `[...document.querySelectorAll('#alarms-cleared tbody tr')]
		.some((tr) => tr.dataset.host === 'myLuna' && tr.textContent.includes('PSU2_Status'))`)
	b.screenshot(t, "alarms")

	// Acknowledge the fan alarm with the keyboard: its button, a comment, the submit
	// button; the row is marked, the store has who and why, the filter finds it.
	open, err := d.store.Alarms(context.Background(), store.AlarmFilter{Open: true, Host: "myLuna"})
	if err != nil {
		t.Fatal(err)
	}
	var fanID int64
	for _, a := range open {
		if a.Key == "Fan3B" {
			fanID = a.ID
		}
	}
	if fanID == 0 {
		t.Fatalf("no open Fan3B alarm of myLuna: %+v", open)
	}
	row := fmt.Sprintf(`#alarms-open tbody tr[data-id="%d"]`, fanID)
	b.do(t, "acknowledge with the keyboard",
		chromedp.SetValue(chromedp.ID("actor"), "alice"),
		chromedp.Focus(chromedp.CSS(row+" button.ack")),
		chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the comment field focused", `getComputedStyle(document.getElementById('alarm-action')).display !== 'none' &&
		document.activeElement === document.getElementById('action-comment')`)
	b.do(t, "type a comment and submit",
		chromedp.SendKeys(chromedp.ID("action-comment"), "fan ordered <b>now</b>"),
		chromedp.Focus(chromedp.ID("action-submit")),
		chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the alarm marked acknowledged", fmt.Sprintf(`(() => {
		const tag = document.querySelector(%s);
		return tag !== null && tag.textContent === 'acknowledged by alice' &&
			getComputedStyle(document.getElementById('alarm-action')).display === 'none';
	})()`, js(row+" td.state .tag.acknowledged")))
	acked, err := d.store.Alarm(context.Background(), fanID)
	if err != nil {
		t.Fatal(err)
	}
	if acked.Acknowledged == nil || acked.Acknowledged.By != "alice" || acked.Acknowledged.Comment != "fan ordered <b>now</b>" || !acked.Cleared.IsZero() {
		t.Errorf("the stored acknowledgement: %+v %+v", acked, acked.Acknowledged)
	}
	b.do(t, "filter the acknowledged alarms", chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('af-state');
		s.value = 'acknowledged';
		s.dispatchEvent(new Event('change', {bubbles: true}));
	})()`))
	b.waitFor(t, "only the acknowledged alarm", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll('#alarms-open tbody tr')];
		return rows.length === 1 && rows[0].dataset.id === '%d';
	})()`, fanID))
	b.screenshot(t, "alarms-acknowledged")
	b.do(t, "clear the filter", chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById('af-state');
		s.value = '';
		s.dispatchEvent(new Event('change', {bubbles: true}));
	})()`))

	// A silence through the form: listed with its author.
	b.do(t, "silence lunaB",
		chromedp.SetValue(chromedp.ID("sf-host"), "lunaB"),
		chromedp.SetValue(chromedp.ID("sf-comment"), "firmware upgrade"),
		chromedp.Click(chromedp.ID("sf-submit")))
	b.waitFor(t, "the silence listed", `[...document.querySelectorAll('#silences tbody tr')]
		.some((tr) => tr.textContent.includes('lunaB') && tr.textContent.includes('alice') && tr.textContent.includes('firmware upgrade'))`)

	// The timeline, then a search that narrows it.
	b.do(t, "open the events", chromedp.Click(chromedp.CSS(`a[data-view="events"]`)))
	b.waitFor(t, "every event listed", fmt.Sprintf(`document.querySelectorAll('#events-table tbody tr').length === %d`, len(all.Events)))
	b.do(t, "search Fan3B",
		chromedp.SetValue(chromedp.ID("f-q"), "Fan3B"),
		chromedp.Click(chromedp.ID("f-apply")))
	b.waitFor(t, "only Fan3B events", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll('#events-table tbody tr')];
		return location.hash === '#/events?q=Fan3B' && rows.length === %d && rows.every((r) => r.textContent.includes('Fan3B'));
	})()`, len(fan.Events)))
	b.screenshot(t, "events-search")

	// An event's detail: its fields and its rule's meaning and action.
	b.do(t, "open an event's detail", chromedp.Click(chromedp.CSS(`#events-table tbody tr[data-rule="luna.ipmi.fan-lnr-going-low"] button.details`)))
	b.waitFor(t, "the rule's meaning and action", fmt.Sprintf(`!document.getElementById('event-detail').hidden &&
		document.getElementById('detail-meaning').textContent === %s &&
		document.getElementById('detail-action').textContent === %s &&
		document.getElementById('detail-raw').textContent.includes('Lower Non-recoverable going low')`,
		js(rule.Meaning), js(rule.Action)))
	b.screenshot(t, "event-detail")

	// myLuna's page: a chart per metric, drawn as SVG paths.
	b.do(t, "open myLuna's page", chromedp.Evaluate[chromedp.Void](`location.hash = '#/hsm/myLuna'`))
	b.waitFor(t, "charts", `(() => {
		const metrics = [...document.querySelectorAll('#hsm-charts .chart-wrap')].map((c) => c.dataset.metric);
		const paths = [...document.querySelectorAll('#hsm-charts svg.chart path.series')];
		return ['health_memory_used', 'hsmStorageAllocatedBytes', 'health_ntls_clients', 'temperature'].every((m) => metrics.includes(m)) &&
			paths.length >= 5 && paths.every((p) => /^M[0-9.]+,[0-9.]+( L[0-9.]+,[0-9.]+){10,}$/.test(p.getAttribute('d')));
	})()`)
	b.waitFor(t, "myLuna's state", `document.getElementById('hsm-state').textContent === 'critical' &&
		document.querySelectorAll('#hsm-alarms li').length > 0`)
	b.screenshot(t, "hsm")

	// Live: an event published after the page loaded appears without a reload, its text
	// shown as text (the markup in it stays inert), and its alarm reaches the alarm list
	// and the fleet.
	b.do(t, "back to the timeline", chromedp.Evaluate[chromedp.Void](`window.hsmwatchTestMarker = 'same page'; location.hash = '#/events'`))
	b.waitFor(t, "the timeline and the stream", fmt.Sprintf(`document.querySelectorAll('#events-table tbody tr').length === %d &&
		document.getElementById('live-status').dataset.state === 'open'`, len(all.Events)))
	deadline := time.Now().Add(15 * time.Second)
	for d.hub.Stats().Clients == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the page never subscribed to the live stream")
		}
		time.Sleep(10 * time.Millisecond)
	}
	const liveLine = `2012 Feb 29 12:09:00 lunaD local4 notice ipmievd: Fan sensor Fan1A . Lower Non-recoverable going low (Reading 0 < Threshold 1000 RPM) <img src=x onerror="window.hsmwatchInjected=1">`
	batch := d.ingest(t, "live", liveLine)
	if dec := batch[0].Decision; dec.Change != state.Opened || batch[0].Record.Event.Host != "lunaD" {
		t.Fatalf("the live line must open an alarm of lunaD: %+v %+v", dec, batch[0].Record.Event)
	}
	b.waitFor(t, "the live event", fmt.Sprintf(`(() => {
		const tr = document.querySelector('#events-table tbody tr:first-child[data-host="lunaD"]');
		return tr !== null && tr.querySelector('td.msg').textContent.includes('<img src=x onerror=') &&
			document.querySelectorAll('#events-table tbody tr').length === %d;
	})()`, len(all.Events)+1))
	if got := eval[bool](t, b, `window.hsmwatchTestMarker === 'same page' && window.hsmwatchInjected === undefined &&
		document.querySelectorAll('#events-table img').length === 0`); !got {
		t.Error("the page reloaded, or the event's markup was interpreted")
	}
	b.screenshot(t, "live-event")
	b.do(t, "open the alarms again", chromedp.Click(chromedp.CSS(`a[data-view="alarms"]`)))
	b.waitFor(t, "the live alarm", `document.querySelector('#alarms-open tbody tr[data-host="lunaD"][data-level="critical"]') !== null`)
	b.do(t, "open the fleet again", chromedp.Click(chromedp.CSS(`a[data-view="fleet"]`)))
	b.waitFor(t, "lunaD's card", `document.querySelector('#fleet-cards .card[data-host="lunaD"][data-level="critical"]') !== null`)
	if !eval[bool](t, b, `window.hsmwatchTestMarker === 'same page'`) {
		t.Error("the page reloaded")
	}
	b.screenshot(t, "live-fleet")

	// Paging: 150 events of one host fill a page of 100; the next follows the cursor.
	var bulk []component.Record
	for i := range 150 {
		bulk = append(bulk, component.Record{Event: &event.Event{Time: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC),
			Host: "bulk1", Source: event.SourceLunaSyslog, Level: "info", Message: fmt.Sprintf("bulk message %d", i),
			Raw: fmt.Sprintf("raw bulk %d", i)}})
	}
	if _, err := d.store.Write(context.Background(), bulk); err != nil {
		t.Fatal(err)
	}
	b.do(t, "filter one host", chromedp.Evaluate[chromedp.Void](`location.hash = '#/events?host=bulk1'`))
	b.waitFor(t, "the first page", `document.querySelectorAll('#events-table tbody tr').length === 100 &&
		!document.getElementById('events-more').hidden &&
		document.querySelector('#events-table tbody tr td.msg').textContent === 'bulk message 149'`)
	b.do(t, "the next page", chromedp.Click(chromedp.ID("events-more")))
	b.waitFor(t, "both pages", `(() => {
		const rows = [...document.querySelectorAll('#events-table tbody tr td.msg')].map((td) => td.textContent);
		return rows.length === 150 && document.getElementById('events-more').hidden &&
			rows.every((m, i) => m === 'bulk message ' + (149 - i));
	})()`)
	b.do(t, "reset the filters", chromedp.Click(chromedp.ID("f-reset")))
	b.waitFor(t, "every event again", `location.hash === '#/events' && document.getElementById('f-host').value === '' &&
		document.querySelectorAll('#events-table tbody tr').length === 100`)
	b.noProblems(t)
}
