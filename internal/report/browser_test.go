package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestHTMLInChromium opens the HTML reports of the small record and of the hostile one
// from files in headless Chromium: each renders with no request but its own file, no
// console error or exception, no dialog (a script from the logs would open one), shows
// its drawings at their size, and a full-page screenshot is kept as an artefact
// ($HSMWATCH_ARTIFACTS, else the test's temporary folder).
func TestHTMLInChromium(t *testing.T) {
	exe := testutil.NeedTool(t, "chromium", "chromium") // CI=true fails without it, else skips
	artifacts := os.Getenv("HSMWATCH_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	for name, log := range map[string]string{"small": smallLog, "hostile": hostile} {
		r, tl, cat := scanned(t, log)
		p := filepath.Join(t.TempDir(), "report-"+name+".html")
		if err := os.WriteFile(p, []byte(htmlOf(t, r, tl, cat)), 0o644); err != nil {
			t.Fatal(err)
		}
		pages[name] = p
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	for _, name := range []string{"small", "hostile"} {
		url := "file://" + pages[name]
		ctx, cancelTab := chromedp.NewContext(allocCtx)
		ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		var mu sync.Mutex
		var problems, requests []string
		err := chromedp.Listen(ctx, func(ev any) {
			var p string
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				mu.Lock()
				requests = append(requests, ev.Request.URL)
				mu.Unlock()
			case *runtime.EventExceptionThrown:
				p = "exception: " + ev.ExceptionDetails.Text
			case *runtime.EventConsoleAPICalled:
				if ev.Type == runtime.ConsoleAPICalledTypeError {
					p = "console.error"
				}
			case *log.EventEntryAdded:
				if ev.Entry.Level == log.EntryLevelError {
					p = "log: " + ev.Entry.Text + " " + ev.Entry.URL
				}
			case *page.EventJavascriptDialogOpening:
				p = "dialog: " + ev.Message
			}
			if p != "" {
				mu.Lock()
				problems = append(problems, p)
				mu.Unlock()
			}
		})
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The drawings are laid out at their size, the tables are there.
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
			const tl = document.querySelector('svg.timeline'), sp = document.querySelector('svg.spans');
			return {timelines: document.querySelectorAll('svg.timeline').length, bars: document.querySelectorAll('svg rect[class]').length,
				width: tl ? tl.getBoundingClientRect().width : 0, spans: sp ? sp.getBoundingClientRect().height : 0,
				scripts: document.scripts.length, tables: document.querySelectorAll('table').length};
		})()`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got["timelines"] < 1 || got["bars"] < 3 || got["width"] < 500 || got["spans"] < 18 || got["scripts"] != 0 || got["tables"] < 2 {
			t.Errorf("%s: the page shows %v; want timelines with bars at their width, the alarm spans, tables and no script", name, got)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Errorf("%s: screenshot: %v", name, err)
		} else {
			p := filepath.Join(artifacts, "report-"+name+".png")
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Error(err)
			}
			t.Logf("screenshot: %s", p)
		}
		mu.Lock()
		for _, p := range problems {
			t.Errorf("%s: the page reported %s", name, p)
		}
		for _, r := range requests {
			if r != url && !strings.HasPrefix(r, "data:") {
				t.Errorf("%s: the page requested %s", name, r)
			}
		}
		if len(requests) == 0 {
			t.Errorf("%s: no request seen at all: the listener saw nothing, the check proves nothing", name)
		}
		mu.Unlock()
		cancel()
		cancelTab()
	}
}
