package dashboard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestMaintenanceInChromium drives the alarm view's maintenance windows in headless
// Chromium: the name is required, a window is added through the form with the keyboard
// only (the time zone defaults to the browser's), listed, marks the alarm of its host as
// in maintenance, is deleted with the keyboard; a bad start time shows the API's error,
// naming the field, next to the form.
func TestMaintenanceInChromium(t *testing.T) {
	d := startDaemon(t)
	d.ingest(t, "hsm-fleet.log", readLines(t, "hsm-fleet.log")...)
	b := newBrowser(t)
	ctx := context.Background()

	b.do(t, "open the alarms", chromedp.Navigate(d.srv.URL+"/#/alarms"))
	b.waitFor(t, "myLuna's open alarm and the empty window list", `document.querySelector('#alarms-open tbody tr[data-host="myLuna"]') !== null &&
		!document.getElementById('maintenance-empty').hidden`)
	if !eval[bool](t, b, `document.getElementById('mf-zone').value === (Intl.DateTimeFormat().resolvedOptions().timeZone || '')`) {
		t.Errorf("the zone does not default to the browser's: %q", eval[string](t, b, `document.getElementById('mf-zone').value`))
	}
	// Every input of the form has a label (the weekdays: their fieldset's legend too).
	if unlabelled := eval[[]string](t, b, `[...document.querySelectorAll('#maintenance-form input')]
		.filter((i) => i.labels.length === 0 || i.labels[0].textContent.trim() === '').map((i) => i.id || i.value)`); len(unlabelled) > 0 {
		t.Errorf("inputs without a label: %v", unlabelled)
	}

	// Without a name: asked for, nothing stored.
	b.do(t, "submit without a name",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('actor').value = ''`),
		chromedp.Focus(chromedp.ID("mf-submit")),
		chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the name asked for", `!document.getElementById('maintenance-error').hidden &&
		/Give your name/.test(document.getElementById('maintenance-error').textContent) &&
		document.activeElement === document.getElementById('actor')`)

	// The keyboard only: the name, then Tab from field to field, Space on the days.
	b.do(t, "add a window with the keyboard",
		chromedp.Focus(chromedp.ID("actor")),
		chromedp.SendKeys(chromedp.ID("actor"), "alice"),
		chromedp.Focus(chromedp.ID("mf-host")),
		chromedp.KeyEvent("myLuna"),
		// Tab into the days: all seven ticked, so the window covers every moment.
		chromedp.KeyEvent(kb.Tab+" "+kb.Tab+" "+kb.Tab+" "+kb.Tab+" "+kb.Tab+" "+kb.Tab+" "+kb.Tab+" "),
		chromedp.KeyEvent(kb.Tab+"00:00"),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(kb.Backspace+kb.Backspace+"24h"),
		chromedp.KeyEvent(kb.Tab+kb.Tab+"firmware <b>upgrade</b>"+kb.Enter))
	b.waitFor(t, "the window listed", `(() => {
		const rows = [...document.querySelectorAll('#maintenance tbody tr')];
		return rows.length === 1 && rows[0].dataset.host === 'myLuna' &&
			[...rows[0].children].map((td) => td.textContent).slice(0, 7).join('|') ===
				'myLuna|every day|00:00|24h|' + (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC') + '|alice|firmware <b>upgrade</b>' &&
			document.getElementById('maintenance-error').hidden && document.getElementById('maintenance-empty').hidden &&
			document.getElementById('mf-host').value === '' && document.querySelectorAll('#maintenance b').length === 0;
	})()`)
	ms, err := d.store.Maintenances(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Host != "myLuna" || len(ms[0].Weekdays) != 7 || ms[0].Start != "00:00" || ms[0].CreatedBy != "alice" ||
		ms[0].Comment != "firmware <b>upgrade</b>" {
		t.Fatalf("the stored windows: %+v", ms)
	}
	// The API marks myLuna's open alarms as covered by the window: the page says so.
	b.waitFor(t, "myLuna in maintenance", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll('#alarms-open tbody tr[data-host="myLuna"]')];
		const others = [...document.querySelectorAll('#alarms-open tbody tr:not([data-host="myLuna"])')];
		return rows.length > 0 && rows.every((tr) => {
			const tag = tr.querySelector('td.state .tag.maintenance');
			return tag !== null && tag.textContent === 'in maintenance' && tag.title === 'host in maintenance window %d now';
		}) && others.every((tr) => tr.querySelector('.tag.maintenance') === null);
	})()`, ms[0].ID))
	b.screenshot(t, "maintenance")

	// A bad start time: the API's 400, naming the field, next to the form; the field
	// flagged and focused; nothing stored.
	b.do(t, "a bad start time",
		chromedp.Focus(chromedp.ID("mf-host")),
		chromedp.KeyEvent("lunaB"),
		chromedp.SetValue(chromedp.ID("mf-start"), "25:00"),
		chromedp.SetValue(chromedp.ID("mf-comment"), "bad start"),
		chromedp.Focus(chromedp.ID("mf-submit")),
		chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the API's error", `(() => {
		const p = document.getElementById('maintenance-error');
		const start = document.getElementById('mf-start');
		return !p.hidden && p.textContent === 'start: want HH:MM (00:00 to 23:59); got "25:00"' &&
			start.getAttribute('aria-invalid') === 'true' && document.activeElement === start &&
			p.closest('form') === document.getElementById('maintenance-form');
	})()`)
	b.screenshot(t, "maintenance-error")
	if ms, _ := d.store.Maintenances(ctx, ""); len(ms) != 1 {
		t.Errorf("a bad window was stored: %+v", ms)
	}

	// Delete with the keyboard: the row goes, the store forgets it, focus stays in the
	// section.
	b.do(t, "delete with the keyboard",
		chromedp.Focus(chromedp.CSS(`#maintenance tbody tr button[data-action="delete-maintenance"]`)),
		chromedp.KeyEvent(kb.Enter))
	b.waitFor(t, "the window gone", `document.querySelectorAll('#maintenance tbody tr').length === 0 &&
		!document.getElementById('maintenance-empty').hidden &&
		document.activeElement === document.getElementById('maintenance-heading') &&
		document.querySelector('#alarms-open .tag.maintenance') === null`)
	if ms, err := d.store.Maintenances(ctx, ""); err != nil || len(ms) != 0 {
		t.Errorf("after the delete, the store holds %+v (%v)", ms, err)
	}
	// The 400 of the bad start time is expected; Chromium logs it.
	b.mu.Lock()
	kept := b.problems[:0]
	for _, p := range b.problems {
		if !strings.Contains(p, "status of 400") || !strings.HasSuffix(p, "/api/maintenance") {
			kept = append(kept, p)
		}
	}
	b.problems = kept
	b.mu.Unlock()
	b.noProblems(t)
}
