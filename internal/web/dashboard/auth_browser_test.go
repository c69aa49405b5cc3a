package dashboard_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// signIn makes the browser send basic auth credentials with every request (the page, its
// API calls, the live stream), as a browser does once its user has logged in.
func (b *browser) signIn(t *testing.T, user, password string) {
	t.Helper()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	b.do(t, "sign in as "+user, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
		return err
	}))
}

// TestSignedInInChromium: with a web configuration file (basic auth users, bcrypt
// hashes), the operator acknowledges from the dashboard, under the name it signed in
// with and with the CSRF token the page fetched; a viewer's attempt is refused, and the
// page says why.
func TestSignedInInChromium(t *testing.T) {
	dir := t.TempDir()
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	webFile := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webFile, []byte(fmt.Sprintf("basic_auth_users:\n  olga: %s\n  vera: %s\n",
		hash("olga-pw"), hash("vera-pw"))), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemonWith(t, &secured{webConfigFile: webFile, roles: map[string]string{"olga": "operator"}})
	d.ingest(t, "hsm-fleet.log", readLines(t, "hsm-fleet.log")...)
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
	b := newBrowser(t)
	acknowledge := func(comment string) {
		t.Helper()
		// Clicked from the page: the list may be redrawn (a reload, the live stream)
		// between finding the button and clicking it.
		b.waitFor(t, "open the acknowledgement", fmt.Sprintf(`(() => {
			const btn = document.querySelector(%s);
			if (btn === null || btn.disabled) return false;
			btn.click();
			return true;
		})()`, js(row+" button.ack")))
		b.waitFor(t, "the comment field", `getComputedStyle(document.getElementById('alarm-action')).display !== 'none'`)
		b.do(t, "comment and submit",
			chromedp.SendKeys(chromedp.ID("action-comment"), comment),
			chromedp.Click(chromedp.ID("action-submit")))
	}

	b.signIn(t, "olga", "olga-pw")
	b.do(t, "open the alarms", chromedp.Navigate(d.url+"/#/alarms"))
	b.waitFor(t, "signed in as olga", `(() => {
		const a = document.getElementById('actor');
		return a.value === 'olga' && a.readOnly;
	})()`)
	b.waitFor(t, "the fan alarm", fmt.Sprintf(`document.querySelector(%s) !== null`, js(row)))
	acknowledge("fan ordered")
	b.waitFor(t, "the alarm acknowledged by olga", fmt.Sprintf(`(() => {
		const tag = document.querySelector(%s);
		return tag !== null && tag.textContent === 'acknowledged by olga';
	})()`, js(row+" td.state .tag.acknowledged")))
	acked, err := d.store.Alarm(context.Background(), fanID)
	if err != nil {
		t.Fatal(err)
	}
	if acked.Acknowledged == nil || acked.Acknowledged.By != "olga" || acked.Acknowledged.Comment != "fan ordered" {
		t.Errorf("the stored acknowledgement: %+v", acked.Acknowledged)
	}
	b.screenshot(t, "signed-in-operator")
	b.noProblems(t)

	// The viewer: the page loads, the acknowledgement is refused, visibly.
	b.signIn(t, "vera", "vera-pw")
	b.do(t, "reload as vera", chromedp.Reload())
	b.waitFor(t, "signed in as vera", `document.getElementById('actor').value === 'vera'`)
	b.waitFor(t, "the fan alarm", fmt.Sprintf(`document.querySelector(%s) !== null`, js(row)))
	acknowledge("I may not")
	b.waitFor(t, "the refusal shown", `(() => {
		const e = document.getElementById('action-error');
		return !e.hidden && e.offsetParent !== null && /operator role/.test(e.textContent);
	})()`)
	b.screenshot(t, "signed-in-viewer-refused")
	again, err := d.store.Alarm(context.Background(), fanID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Acknowledged == nil || again.Acknowledged.By != "olga" {
		t.Errorf("the viewer changed the acknowledgement: %+v", again.Acknowledged)
	}
}
