package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// axeVersion is the axe-core release the accessibility checks run (npm package).
const axeVersion = "4.11.0"

// axeScript returns axe.min.js: from HSMWATCH_AXE, else from the user's cache, where it
// is installed with npm when missing (scripts/test.sh installs it beforehand).
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("HSMWATCH_AXE")
	if path == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("axe-core: no cache folder: %v", err)
		}
		dir := filepath.Join(cache, "hsmwatch", "axe-core-"+axeVersion)
		path = filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
		if _, err := os.Stat(path); err != nil {
			npm := testutil.NeedTool(t, "npm", "npm")
			cmd := exec.Command(npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "axe-core@"+axeVersion)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("npm install axe-core@%s into %s: %v\n%s", axeVersion, dir, err, out)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return string(b)
}

// axeViolation is one finding of axe.run.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the page as it is and fails on any serious or
// critical finding (the lesser ones are logged).
func (b *browser) checkAccessibility(t *testing.T, view, script string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`if (!window.axe) { `+script+` }`)); err != nil {
		t.Fatalf("%s: load axe-core: %v", view, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ['violations']}).then((r) => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", view, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(res), &vs); err != nil {
		t.Fatalf("%s: axe.run's answer: %v", view, err)
	}
	for _, v := range vs {
		where := ""
		for i, n := range v.Nodes {
			if i == 3 {
				where += fmt.Sprintf(" (and %d more)", len(v.Nodes)-3)
				break
			}
			where += fmt.Sprintf("\n    %v %s", n.Target, n.HTML)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: accessibility (%s) %s: %s%s", view, v.Impact, v.ID, v.Help, where)
		} else {
			t.Logf("%s: accessibility (%s) %s: %s", view, v.Impact, v.ID, v.Help)
		}
	}
}

// TestConsoleInChromium uses the console as an operator does, against a daemon holding
// the example fleet log, polls of two Luna appliances, a Dinamo and PKCS#11 slots, and an
// event of a megabyte: what each view says, its charts' axes, the height of the pages,
// the alarm actions with the keyboard only, and an axe-core accessibility check of every
// view.
func TestConsoleInChromium(t *testing.T) {
	d := startDaemon(t)
	d.ingest(t, "hsm-fleet.log", readLines(t, "hsm-fleet.log")...)
	d.putSamples(t, "myLuna", "lunaC")
	d.putDinamoAndTokens(t)
	// Thirty open alarms of one appliance: more than a page of the alarm list.
	var bulk []string
	for i := range 30 {
		bulk = append(bulk, fmt.Sprintf("2012 Feb 29 12:09:%02d lunaBulk local4 notice ipmievd: Fan sensor Fan%dA . Lower Non-recoverable going low (Reading 0 < Threshold 1000 RPM)", i, i))
	}
	d.ingest(t, "bulk", bulk...)
	ctx := context.Background()
	// One event of a megabyte, as a runaway log line would make.
	huge := strings.Repeat("0123456789abcdef", 1<<16)
	if _, err := d.store.Write(ctx, []component.Record{{Event: &event.Event{Time: time.Now().UTC(),
		Host: "myLuna", Source: event.SourceLunaSyslog, Level: "warning", Message: "runaway " + huge, Raw: "runaway " + huge}}}); err != nil {
		t.Fatal(err)
	}
	rule, ok := d.catalog.Rule("luna.ipmi.fan-lnr-going-low")
	if !ok {
		t.Fatal("the catalog lost luna.ipmi.fan-lnr-going-low")
	}
	open, err := d.store.Alarms(ctx, store.AlarmFilter{Open: true, Host: "myLuna"})
	if err != nil {
		t.Fatal(err)
	}
	var fan store.Alarm
	for _, a := range open {
		if a.Key == "Fan3B" {
			fan = a
		}
	}
	if fan.ID == 0 {
		t.Fatalf("no open Fan3B alarm of myLuna: %+v", open)
	}
	mem, err := d.store.Samples(ctx, store.SampleFilter{Host: "myLuna", Metric: "memAvailReal", Since: time.Now().Add(-24 * time.Hour)})
	if err != nil || len(mem.Samples) == 0 {
		t.Fatalf("memAvailReal of myLuna: %v %d", err, len(mem.Samples))
	}
	lo, hi := mem.Samples[0].Value, mem.Samples[0].Value
	for _, s := range mem.Samples {
		lo, hi = min(lo, s.Value), max(hi, s.Value)
	}
	axe := axeScript(t)
	b := newBrowser(t)

	// The fleet: a card per device, not per empty slot; worst first; the worst open
	// alarm in words with its age; the kind's figures in their units.
	b.do(t, "open the fleet", chromedp.Navigate(d.url+"/#/fleet"))
	b.waitFor(t, "the cards with their figures", `(() => {
		const c = document.querySelector('#fleet-cards .card[data-host="myLuna"]');
		const t = document.querySelector('#fleet-cards .card[data-host="tok1"]');
		return c !== null && t !== null && c.querySelectorAll('.figures svg.spark path.line').length >= 3 &&
			document.querySelector('#fleet-cards .card[data-host="dinamo1"] .figure[data-figure="battery"]') !== null;
	})()`)
	b.screenshot(t, "console-fleet")
	worst := eval[string](t, b, `document.querySelector('.card[data-host="myLuna"] .worst').textContent`)
	if !strings.HasPrefix(worst, "Fan Fan3B below its non-recoverable threshold, ") || !strings.HasSuffix(worst, " d") {
		t.Errorf("myLuna's card says %q; want its fan alarm in words with its age in days (the log is from 2012)", worst)
	}
	if got := eval[string](t, b, `document.querySelector('.card[data-host="myLuna"] .figure[data-figure="memory"] .value').textContent`); !strings.HasSuffix(got, " %") {
		t.Errorf("myLuna's memory figure reads %q, not a percentage", got)
	}
	if got := eval[string](t, b, `document.querySelector('.card[data-host="myLuna"] .figure[data-figure="temperature"] .value').textContent`); !strings.HasSuffix(got, " °C") {
		t.Errorf("myLuna's temperature reads %q, not in °C", got)
	}
	if got := eval[string](t, b, `document.querySelector('.card[data-host="myLuna"] .figure[data-figure="memory"] .limits').textContent`); got != "warning above 90 %, critical above 95 %" {
		t.Errorf("myLuna's memory thresholds read %q", got)
	}
	if got := eval[string](t, b, `document.querySelector('.card[data-host="myLuna"] .figure[data-figure="ntls_status"] .value').textContent`); got != "up" {
		t.Errorf("myLuna's NTLS status reads %q, want the word up", got)
	}
	if got := eval[string](t, b, `document.querySelector('.card[data-host="dinamo1"] .kind').textContent`); got != "Dinamo HSM" {
		t.Errorf("dinamo1's kind reads %q", got)
	}
	// The uninitialised slot is named under its site, never a card; the token is a card
	// under the tokens' heading.
	if n := eval[int](t, b, `document.querySelectorAll('.card[data-host*=":slot"]').length`); n != 0 {
		t.Errorf("%d cards for an uninitialised PKCS#11 slot", n)
	}
	if got := eval[string](t, b, `document.querySelector('section.site .spare').textContent`); !strings.Contains(got, "1 uninitialised PKCS#11 slot (libsofthsm2.so slot 2)") {
		t.Errorf("the uninitialised slot is not named: %q", got)
	}
	if !eval[bool](t, b, `document.querySelector('.cards.tokens .card[data-host="tok1"] .kind').textContent === 'PKCS#11 token, libsofthsm2.so slot 1'`) {
		t.Error("tok1 is not listed as a token of its library")
	}
	// Worst first, and no title wider than its card.
	order := eval[[]string](t, b, `[...document.querySelectorAll('#fleet-cards .cards:not(.tokens) .card')].map((c) => c.dataset.level)`)
	rank := map[string]int{"critical": 6, "major": 5, "minor": 4, "warning": 3, "info": 2, "debug": 1, "none": 0, "ok": -1}
	for i := 1; i < len(order); i++ {
		if rank[order[i]] > rank[order[i-1]] {
			t.Errorf("cards not worst first: %v", order)
			break
		}
	}
	if over := eval[[]string](t, b, `[...document.querySelectorAll('.card')].filter((c) => c.scrollWidth > c.clientWidth + 1 ||
		c.querySelector('.title').getBoundingClientRect().right > c.getBoundingClientRect().right).map((c) => c.dataset.host)`); len(over) > 0 {
		t.Errorf("cards overflowing: %v", over)
	}
	b.checkAccessibility(t, "fleet", axe)
	// The search keeps the matching cards.
	b.do(t, "search the fleet", chromedp.SendKeys(chromedp.ID("fleet-search"), "dinamo"))
	b.waitFor(t, "only dinamo1", `(() => {
		const hosts = [...document.querySelectorAll('#fleet-cards .card')].map((c) => c.dataset.host);
		return hosts.length === 1 && hosts[0] === 'dinamo1';
	})()`)
	b.do(t, "clear the search", chromedp.Evaluate[chromedp.Void](`(() => {
		const q = document.getElementById('fleet-search');
		q.value = '';
		q.dispatchEvent(new Event('input', {bubbles: true}));
	})()`))

	// myLuna's page: the open alarms first, with the rule's meaning and action; then the
	// health panels; the raw figures folded.
	b.do(t, "open myLuna's page", chromedp.Evaluate[chromedp.Void](`location.hash = '#/hsm/myLuna?range=24h'`))
	b.waitFor(t, "alarms and panels", fmt.Sprintf(`(() => {
		const li = document.querySelector('#hsm-alarms li.alarm[data-id="%d"]');
		return li !== null && li.querySelector('dd.meaning').textContent === %s &&
			document.querySelectorAll('#hsm-panels svg.chart').length >= 4;
	})()`, fan.ID, js(rule.Meaning)))
	if !eval[bool](t, b, `!!(document.getElementById('hsm-alarms').compareDocumentPosition(document.getElementById('hsm-panels')) & Node.DOCUMENT_POSITION_FOLLOWING) &&
		!document.getElementById('hsm-all').open`) {
		t.Error("the open alarms do not come before the health panels, or all figures are not folded")
	}
	if got := eval[string](t, b, fmt.Sprintf(`document.querySelector('#hsm-alarms li.alarm[data-id="%d"] dd.action').textContent`, fan.ID)); got != rule.Action {
		t.Errorf("the alarm's action reads %q, want the rule's %q", got, rule.Action)
	}
	b.screenshot(t, "console-hsm")
	b.checkAccessibility(t, "hsm", axe)

	// Every chart, with all figures open: no value label cut by the chart's edge, time
	// labels distinct; the raw memory chart's ticks cover the data's range.
	b.do(t, "open all figures", chromedp.Evaluate[chromedp.Void](`document.getElementById('hsm-all').open = true`))
	checkAxes := func(rng string) {
		t.Helper()
		bad := eval[[]string](t, b, `(() => {
			const bad = [];
			for (const svg of document.querySelectorAll('#view-hsm svg.chart')) {
				const name = svg.closest('.chart-wrap').dataset.metric;
				for (const text of svg.querySelectorAll('text.y-label')) {
					if (text.getBBox().x < 0) bad.push(name + ': value label ' + text.textContent + ' cut');
				}
				const xs = [...svg.querySelectorAll('text.x-label')];
				const labels = xs.map((x) => x.textContent);
				if (new Set(labels).size !== labels.length) bad.push(name + ': time labels repeat: ' + labels.join(' '));
				if (labels.length < 2) bad.push(name + ': fewer than two time labels');
				// The ticks spread over the axis's range: none outside it, none more than a
				// step away from either end.
				const from = Number(svg.dataset.from), to = Number(svg.dataset.to);
				const ts = xs.map((x) => Number(x.dataset.time));
				const step = ts.length > 1 ? ts[1] - ts[0] : to - from;
				if (ts.some((t) => t < from || t > to) || ts[0] - from > step || to - ts[ts.length - 1] > step) {
					bad.push(name + ': time ticks ' + labels.join(' ') + ' do not span the range');
				}
				const vb = svg.viewBox.baseVal;
				for (const x of xs) {
					const bb = x.getBBox();
					if (bb.x < 0 || bb.x + bb.width > vb.width) bad.push(name + ': time label ' + x.textContent + ' cut');
				}
			}
			return bad;
		})()`)
		for _, p := range bad {
			t.Errorf("range %s: %s", rng, p)
		}
	}
	checkAxes("24h")
	// The time axis runs from the first sample held (six hours ago) to now.
	first := mem.Samples[0].Time.UnixMilli()
	if got := eval[float64](t, b, `Number(document.querySelector('#hsm-panels .chart-wrap[data-figure="memory"] svg.chart').dataset.from)`); int64(got) != first {
		t.Errorf("the memory panel's time axis starts at %v, want the first sample's %v", time.UnixMilli(int64(got)).UTC(), mem.Samples[0].Time)
	}
	ticks := eval[[]float64](t, b, `[...document.querySelectorAll('#hsm-charts .chart-wrap[data-metric="memAvailReal"] text.y-label')].map((x) => Number(x.dataset.value))`)
	if len(ticks) < 2 || ticks[0] > lo || ticks[len(ticks)-1] < hi || ticks[len(ticks)-1]-ticks[0] > 3*(hi-lo) {
		t.Errorf("memAvailReal's value ticks %v do not cover the data's range %v..%v closely", ticks, lo, hi)
	}
	top := eval[string](t, b, `[...document.querySelectorAll('#hsm-charts .chart-wrap[data-metric="memAvailReal"] text.y-label')].pop().textContent`)
	if want := fmt.Sprintf("%d,%03d,%03d", int(ticks[len(ticks)-1])/1000000, int(ticks[len(ticks)-1])/1000%1000, int(ticks[len(ticks)-1])%1000); top != want {
		t.Errorf("memAvailReal's top label reads %q, want %q", top, want)
	}
	if got := eval[string](t, b, `[...document.querySelectorAll('#hsm-latest tbody tr')].find((tr) => tr.children[0].textContent === 'hsmManuallyZeroized').children[2].textContent`); got != "false (2)" {
		t.Errorf("a TruthValue reads %q, want its word", got)
	}
	// Hovering a chart shows the time and the value there.
	b.do(t, "hover the memory panel", chromedp.Evaluate[chromedp.Void](`(() => {
		const r = document.querySelector('#hsm-panels .chart-wrap[data-figure="memory"] rect.hover');
		const box = r.getBoundingClientRect();
		r.dispatchEvent(new PointerEvent('pointermove', {clientX: box.left + box.width / 2, clientY: box.top + box.height / 2, bubbles: true}));
	})()`))
	b.waitFor(t, "the hover tip", `(() => {
		const tip = document.querySelector('#hsm-panels .chart-wrap[data-figure="memory"] g.tip');
		return tip.getAttribute('visibility') === 'visible' && / %$/.test(tip.textContent) && /UTC/.test(tip.textContent);
	})()`)
	for _, rng := range []string{"1h", "6h", "7d", "30d"} {
		b.do(t, "range "+rng, chromedp.Evaluate[chromedp.Void](`location.hash = '#/hsm/myLuna?range=`+rng+`'`))
		b.waitFor(t, "range "+rng+" drawn", `document.querySelector('#hsm-ranges a[aria-current="true"]').textContent === '`+rng+`' &&
			document.querySelectorAll('#hsm-panels svg.chart').length >= 4`)
		b.do(t, "open all figures", chromedp.Evaluate[chromedp.Void](`document.getElementById('hsm-all').open = true`))
		checkAxes(rng)
	}
	b.screenshot(t, "console-hsm-30d")

	// The alarm's actions with the keyboard alone: Tab from the heading to its
	// acknowledge button, Enter, the name, Tab, the comment, Tab to the submit button,
	// Enter.
	b.do(t, "back to 24h", chromedp.Evaluate[chromedp.Void](`location.hash = '#/hsm/myLuna'`))
	ack := fmt.Sprintf(`document.querySelector('#hsm-alarms li.alarm[data-id="%d"] button.ack')`, fan.ID)
	b.waitFor(t, "the acknowledge button", ack+` !== null && !`+ack+`.disabled`)
	b.do(t, "focus the alarms heading", chromedp.Focus(chromedp.ID("hsm-alarms-heading")))
	for i := 0; ; i++ {
		if eval[bool](t, b, `document.activeElement === `+ack) {
			break
		}
		if i == 60 {
			t.Fatalf("60 Tabs from the heading never reached the acknowledge button (at %s)",
				eval[string](t, b, `document.activeElement.outerHTML.slice(0, 200)`))
		}
		b.do(t, "Tab", chromedp.KeyEvent(kb.Tab))
	}
	b.do(t, "Enter on acknowledge", chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the form, focused", `!document.getElementById('hsm-action').hidden &&
		document.getElementById('hsm-action').contains(document.activeElement)`)
	if eval[bool](t, b, `document.activeElement.id === 'hsm-actor'`) {
		b.do(t, "type a name", chromedp.KeyEvent("carol"), chromedp.KeyEvent(kb.Tab))
	}
	b.waitFor(t, "the comment focused", `document.activeElement.id === 'hsm-action-comment'`)
	b.do(t, "comment and submit", chromedp.KeyEvent("on site at 9"), chromedp.KeyEvent(kb.Tab))
	b.waitFor(t, "the submit button focused", `document.activeElement.id === 'hsm-action-submit'`)
	b.do(t, "Enter", chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the alarm marked acknowledged", fmt.Sprintf(`(() => {
		const tag = document.querySelector('#hsm-alarms li.alarm[data-id="%d"] .tag.acknowledged');
		return tag !== null && tag.textContent === 'acknowledged by carol' && document.getElementById('hsm-action').hidden;
	})()`, fan.ID))
	acked, err := d.store.Alarm(ctx, fan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if acked.Acknowledged == nil || acked.Acknowledged.By != "carol" || acked.Acknowledged.Comment != "on site at 9" {
		t.Errorf("the stored acknowledgement: %+v", acked.Acknowledged)
	}
	b.screenshot(t, "console-hsm-acknowledged")

	// Silence another alarm of the page for an hour: the silence names its host and rule.
	var other store.Alarm
	for _, a := range open {
		if a.ID != fan.ID && a.Rule != "" {
			other = a
			break
		}
	}
	if other.ID == 0 {
		t.Fatalf("myLuna has no second open alarm: %+v", open)
	}
	b.do(t, "silence the second alarm", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#hsm-alarms li.alarm[data-id="%d"] button.silence`, other.ID))))
	b.waitFor(t, "the silence form", `!document.getElementById('hsm-action').hidden && !document.getElementById('hsm-duration-label').hidden`)
	b.do(t, "an hour, a reason", chromedp.SetValue(chromedp.ID("hsm-action-duration"), "1h"),
		chromedp.SendKeys(chromedp.ID("hsm-action-comment"), "known, ticket 42"),
		chromedp.Click(chromedp.ID("hsm-action-submit")))
	b.waitFor(t, "the form closed", `document.getElementById('hsm-action').hidden`)
	sils, err := d.store.Silences(ctx, store.SilenceFilter{EndsAfter: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range sils {
		if s.Host == "myLuna" && s.Rule == other.Rule && s.Comment == "known, ticket 42" && s.CreatedBy == "carol" &&
			s.Ends.Sub(s.Starts) == time.Hour {
			found = true
		}
	}
	if !found {
		t.Errorf("no silence of myLuna's %s by carol for an hour: %+v", other.Rule, sils)
	}

	// The alarms: who did what when, under the evidence; filters; paging.
	b.do(t, "open the alarms", chromedp.Click(chromedp.CSS(`a[data-view="alarms"]`)))
	row := fmt.Sprintf(`#alarms-open tbody tr[data-id="%d"]`, fan.ID)
	b.waitFor(t, "the evidence and the action", fmt.Sprintf(`(() => {
		const d = document.querySelector(%s);
		return d !== null && /Evidence \(\d+\) and actions \(1\)/.test(d.querySelector('summary').textContent) &&
			d.textContent.includes('acknowledged by carol: on site at 9');
	})()`, js(row+" details.evidence")))
	b.do(t, "filter stale critical alarms of myLuna", chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById('af-host').value = 'myluna';
		document.getElementById('af-level').value = 'critical';
		const s = document.getElementById('af-state');
		s.value = 'stale';
		s.dispatchEvent(new Event('change', {bubbles: true}));
	})()`))
	b.waitFor(t, "only myLuna's stale critical alarms", `(() => {
		const rows = [...document.querySelectorAll('#alarms-open tbody tr')];
		return rows.length > 0 && rows.every((r) => r.dataset.host === 'myLuna' && r.dataset.level === 'critical' &&
			r.querySelector('.tag.stale') !== null);
	})()`)
	b.screenshot(t, "console-alarms")
	b.do(t, "every open alarm", chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById('af-host').value = '';
		document.getElementById('af-level').value = '';
		const s = document.getElementById('af-state');
		s.value = '';
		s.dispatchEvent(new Event('change', {bubbles: true}));
	})()`))
	b.waitFor(t, "a page of 25 alarms", `document.querySelectorAll('#alarms-open tbody tr').length === 25 &&
		/Page 1 of 2/.test(document.getElementById('open-pager').textContent)`)
	b.do(t, "the next page", chromedp.Click(chromedp.CSS(`#open-pager button[data-page="1"]`)))
	b.waitFor(t, "the second page", `/Page 2 of 2/.test(document.getElementById('open-pager').textContent) &&
		document.querySelectorAll('#alarms-open tbody tr').length > 0 && document.querySelectorAll('#alarms-open tbody tr').length < 25`)
	b.checkAccessibility(t, "alarms, paged", axe)
	b.checkAccessibility(t, "alarms", axe)

	// The events: the megabyte event clipped, the page of bounded height, unfolded in a
	// box of bounded height; clears shown as clears.
	b.do(t, "open the events", chromedp.Evaluate[chromedp.Void](`location.hash = '#/events'`))
	b.waitFor(t, "the huge event, clipped", `(() => {
		const td = [...document.querySelectorAll('#events-table tbody td.msg')].find((x) => x.textContent.startsWith('runaway'));
		return td !== undefined && td.querySelector('button.more') !== null;
	})()`)
	height := eval[float64](t, b, `document.documentElement.scrollHeight`)
	if height > 20000 {
		t.Errorf("the events page is %.0f px tall with a 1 MB event", height)
	}
	if n := eval[int](t, b, `document.querySelectorAll('#events-table tbody .badge.cleared').length`); n == 0 {
		t.Error("no clear is shown as a clear")
	}
	b.do(t, "show all of it", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#events-table tbody td.msg')].find((x) => x.textContent.startsWith('runaway')).querySelector('button.more').click()`))
	b.waitFor(t, "unfolded", `[...document.querySelectorAll('#events-table tbody td.msg')].find((x) => x.textContent.startsWith('runaway')).querySelector('button.more').getAttribute('aria-expanded') === 'true'`)
	if h := eval[float64](t, b, `document.documentElement.scrollHeight`); h > height+1000 {
		t.Errorf("unfolding the 1 MB event made the page %.0f px tall (from %.0f)", h, height)
	}
	b.do(t, "its detail", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#events-table tbody td.msg')].find((x) => x.textContent.startsWith('runaway')).closest('tr').querySelector('button.details').click()`))
	b.waitFor(t, "the whole event in the detail", fmt.Sprintf(`document.getElementById('detail-raw').textContent.length === %d`, len("runaway ")+len(huge)))
	if h := eval[float64](t, b, `Math.max(document.documentElement.scrollHeight, document.getElementById('event-detail').getBoundingClientRect().height)`); h > 20000 {
		t.Errorf("the detail of the 1 MB event made the page %.0f px tall", h)
	}
	b.screenshot(t, "console-events")
	b.checkAccessibility(t, "events", axe)
	b.noProblems(t)
}
