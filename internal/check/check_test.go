package check

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// The range table of the Monitoring Plugins Development Guidelines ("Threshold and ranges"),
// each with values on both sides of and on every bound.
func TestRangeGuidelineTable(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		def     string
		alert   []float64
		noAlert []float64
	}{
		{"10", []float64{-0.001, -5, 10.001, 11, inf}, []float64{0, 5, 10}},                // < 0 or > 10
		{"10:", []float64{9.999, 0, -5}, []float64{10, 11, 1e12, inf}},                     // < 10
		{"~:10", []float64{10.001, 11, inf}, []float64{10, 0, -1e12, math.Inf(-1)}},        // > 10
		{"10:20", []float64{9.99, 20.01, -1, 0}, []float64{10, 15, 20}},                    // < 10 or > 20
		{"@10:20", []float64{10, 15, 20}, []float64{9.99, 20.01, 0, -1}},                   // 10 <= x <= 20
		{"@~:0", []float64{0, -1, math.Inf(-1)}, []float64{0.01, 5}},                       // inside minus infinity to 0
		{"0.5:1.5", []float64{0.49, 1.51}, []float64{0.5, 1, 1.5}},                         // floats
		{"-10:-5", []float64{-4.9, -10.1, 0}, []float64{-10, -7, -5}},                      // negative bounds
		{":10", []float64{-1, 10.5}, []float64{0, 10}},                                     // the C library's 0:10
		{"1e2", []float64{100.1, -1}, []float64{0, 100}},                                   // exponent
		{" 10 ", []float64{11}, []float64{10}},                                             // spaces around
		{"@5", []float64{0, 5}, []float64{5.1, -0.1}},                                      // inside 0..5
		{"5:5", []float64{4.9, 5.1}, []float64{5}},                                         // one point
		{"+3:", []float64{2}, []float64{3}},                                                // explicit sign
		{".5", []float64{0.6, -0.1}, []float64{0, 0.5}},                                    // leading dot
		{"~:-1", []float64{-0.5, 0}, []float64{-1, -2}},                                    // minus infinity to -1
		{"@10:", []float64{10, 1e9}, []float64{9}},                                         // inside 10..infinity
		{"100:200", []float64{math.NaN()}, nil},                                            // NaN always alerts
		{"@100:200", []float64{math.NaN()}, nil},                                           // even inside mode
		{"0", []float64{0.0001, -0.0001}, []float64{0}},                                    // only zero is fine
		{"10.0:20.00", []float64{9, 21}, []float64{10, 20}},                                // trailing zeros
		{"2.5e-1:", []float64{0.2}, []float64{0.25}},                                       // small exponent
		{"@-1:1", []float64{-1, 0, 1}, []float64{-1.01, 1.01}},                             // around zero
		{"~:0", []float64{0.1}, []float64{0, -100}},                                        // guideline's -w~:0
		{"1:", []float64{0.99, 0}, []float64{1}},                                           // guideline's -c1:
		{"5:6", []float64{4, 7}, []float64{5, 6}},                                          // guideline's -c5:6
		{"@10:20", []float64{10, 20}, []float64{9, 21}},                                    // guideline's -c@10:20
		{"20", []float64{21, -1}, []float64{0, 20}},                                        // guideline's -c20
		{"@0:0", []float64{0}, []float64{1, -1}},                                           // alert on exactly zero
		{"~:1e3", []float64{1000.5}, []float64{1000}},                                      // exponent after ~:
		{"0:0.000001", []float64{0.000002}, []float64{0.000001}},                           // tiny bound
		{"9007199254740993", []float64{9007199254740994 * 2}, []float64{9007199254740992}}, // big
		{"-0", []float64{0.1}, []float64{0}},                                               // negative zero
		{"@1", []float64{0, 0.5, 1}, []float64{1.5}},                                       // inside 0..1
		{"00010", []float64{10.1}, []float64{10}},                                          // leading zeros
		{"10.", []float64{10.1}, []float64{10}},                                            // trailing dot
		{"~:10 ", []float64{10.1}, []float64{10}},                                          // trailing space
		{"@~:10", []float64{10, -5}, []float64{10.1}},                                      // inside ~:10
		{"1:1e1", []float64{0.5, 10.5}, []float64{1, 10}},                                  // mixed forms
		{"1e-400:", []float64{-1}, []float64{0, 1}},                                        // underflows to 0:
		{"-1:", []float64{-1.5}, []float64{-1, 0}},                                         // negative start
	} {
		r, err := ParseRange(c.def)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", c.def, err)
			continue
		}
		for _, v := range c.alert {
			if !r.Alert(v) {
				t.Errorf("range %q: %v should alert", c.def, v)
			}
		}
		for _, v := range c.noAlert {
			if r.Alert(v) {
				t.Errorf("range %q: %v should not alert", c.def, v)
			}
		}
		// The canonical form parses back to the same range.
		back, err := ParseRange(r.String())
		if err != nil || back != r {
			t.Errorf("range %q: String %q parses back to %+v, %v", c.def, r.String(), back, err)
		}
	}
}

func TestRangeRefused(t *testing.T) {
	for _, def := range []string{
		"-5", "3:2", "@", "~10", "~:", "", "abc", "1e999", "10:20:30", "NaN", "inf", "0x10", "1_000", ":", "@@1", "~:~", "10:~", "1 0", "--1", "1e", "10%", "10:5", "@20:10", "-1:-2", "~:-1e999", "5:-1e999", "1,5", ".", "+", "e5", "@:", "@~:", "~", "-", "1:2 3", "\t", "١٠", "10:20x", "x10:20", "@x", "~:x", "-5:-10", "1e308:1e309", "-1e309:", "5:4.9999", "0:-0.1", "@0.2:0.1", "2:1e0", "~:~10", "10::", "::10", "10:20:", "@10:20@", "1e+", "++1", "1.2.3", "Infinity", "-inf:", "~:+Inf",
	} {
		if r, err := ParseRange(def); err == nil {
			t.Errorf("ParseRange(%q) = %+v, want an error", def, r)
		} else if !strings.HasPrefix(err.Error(), "range ") {
			t.Errorf("ParseRange(%q): error %q does not name the range", def, err)
		}
	}
}

func TestRangeErrorsAreClear(t *testing.T) {
	for def, want := range map[string]string{
		"20:10":  "start 20 is greater than end 10",
		"abc":    `"abc" is not a number`,
		"~10":    "must be followed by ':'",
		"":       "empty",
		"~:":     "never alert",
		"1:x":    `end: "x" is not a number`,
		"y:1":    `start: "y" is not a number`,
		"1e999":  "out of range",
		":":      "neither start nor end",
		"@":      "empty",
		"-5":     "start 0 is greater than end -5",
		"@2:1.5": "start 2 is greater than end 1.5",
	} {
		_, err := ParseRange(def)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRange(%q) error %v, want it to contain %q", def, err, want)
		}
	}
}

func TestRangeString(t *testing.T) {
	for def, want := range map[string]string{
		"10": "10", "10:": "10:", "~:10": "~:10", "10:20": "10:20", "@10:20": "@10:20",
		"0:10": "10", ":10": "10", "@0:5": "@5", "0:": "0:", "1.50:2.0": "1.5:2", "1e2": "100",
		"@~:0": "@~:0", "-3:-1": "-3:-1",
	} {
		r, err := ParseRange(def)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.String(); got != want {
			t.Errorf("ParseRange(%q).String() = %q, want %q", def, got, want)
		}
	}
}

// The guidelines' example command lines (check_stuff -w.. -c..) and what each should do.
func TestThresholdGuidelineExamples(t *testing.T) {
	for _, c := range []struct {
		w, c string
		want map[float64]Status
	}{
		// "Critical if stuff is over 20, else warn if over 10 (will be critical if stuff is less than 0)"
		{"10", "20", map[float64]Status{-1: Critical, 0: OK, 10: OK, 11: Warning, 20: Warning, 21: Critical}},
		// "Same as above. Negative stuff is OK"
		{"~:10", "~:20", map[float64]Status{-1: OK, 0: OK, 10: OK, 11: Warning, 20: Warning, 21: Critical}},
		// "Critical if stuff is over 20, else warn if stuff is below 10 (will be critical if stuff is less than 0)"
		{"10:", "20", map[float64]Status{-1: Critical, 0: Warning, 9: Warning, 10: OK, 20: OK, 21: Critical}},
		// "Critical if stuff is less than 1"
		{"", "1:", map[float64]Status{0: Critical, 0.5: Critical, 1: OK, 100: OK}},
		// "Critical if stuff is above 10; Warn if stuff is above zero (will be critical if stuff is less than 0)"
		{"~:0", "10", map[float64]Status{-1: Critical, 0: OK, 1: Warning, 10: Warning, 11: Critical}},
		// "Critical if stuff is less than 5 or more than 6"
		{"", "5:6", map[float64]Status{4: Critical, 5: OK, 6: OK, 7: Critical}},
		// "OK if stuff is less than 10 or higher than 20, otherwise critical"
		{"", "@10:20", map[float64]Status{9: OK, 10: Critical, 15: Critical, 20: Critical, 21: OK}},
		// Neither set: always OK.
		{"", "", map[float64]Status{-1e9: OK, 1e9: OK}},
	} {
		th, err := ParseThreshold(c.w, c.c)
		if err != nil {
			t.Fatalf("-w %q -c %q: %v", c.w, c.c, err)
		}
		for v, want := range c.want {
			if got := th.Evaluate(v); got != want {
				t.Errorf("-w %q -c %q: %v is %v, want %v", c.w, c.c, v, got, want)
			}
		}
	}
	if _, err := ParseThreshold("10", "x"); err == nil || !strings.Contains(err.Error(), "critical threshold") {
		t.Errorf("a bad -c should name the critical threshold: %v", err)
	}
	if _, err := ParseThreshold("20:10", ""); err == nil || !strings.Contains(err.Error(), "warning threshold") {
		t.Errorf("a bad -w should name the warning threshold: %v", err)
	}
}

func TestStatus(t *testing.T) {
	for s, want := range map[Status]string{OK: "OK", Warning: "WARNING", Critical: "CRITICAL", Unknown: "UNKNOWN", 7: "Status(7)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
	if int(OK) != 0 || int(Warning) != 1 || int(Critical) != 2 || int(Unknown) != 3 {
		t.Error("exit codes must be 0, 1, 2, 3")
	}
	for _, c := range []struct {
		in   []Status
		want Status
	}{
		{nil, OK}, {[]Status{OK, OK}, OK}, {[]Status{OK, Unknown}, Unknown}, {[]Status{Unknown, Warning}, Warning},
		{[]Status{Critical, Unknown, Warning}, Critical}, {[]Status{Warning, OK}, Warning},
	} {
		if got := Worst(c.in...); got != c.want {
			t.Errorf("Worst(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	for in, want := range map[string]Status{"ok": OK, "WARNING": Warning, "crit": Critical, "3": Unknown, " Critical ": Critical} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseStatus("bad"); err == nil {
		t.Error("ParseStatus(bad) should fail")
	}
}

func TestPerfdata(t *testing.T) {
	for _, c := range []struct {
		p    Perfdata
		want string
	}{
		{Perfdata{Label: "used", Value: 43968, UOM: "B", Min: Float(0), Max: Float(14286412)}, "used=43968B;;;0;14286412"},
		{Perfdata{Label: "usage", Value: 0.31, UOM: "%", Warn: MustRange("75"), Crit: MustRange("90")}, "usage=0.31%;75;90"},
		{Perfdata{Label: "x", Value: 1}, "x=1"},
		{Perfdata{Label: "x", Value: 1, Crit: MustRange("@10:20")}, "x=1;;@10:20"},
		{Perfdata{Label: "x", Value: -2.5, Warn: MustRange("~:10")}, "x=-2.5;~:10"},
		{Perfdata{Label: "my token used", Value: 3, UOM: "B"}, "'my token used'=3B"},
		{Perfdata{Label: "Bob's", Value: 3}, "'Bob''s'=3"},
		{Perfdata{Label: "tab\there", Value: 3}, "'tab\there'=3"},
		{Perfdata{Label: "c", Value: 12, UOM: "c", Max: Float(100)}, "c=12c;;;;100"},
		{Perfdata{Label: "t", Value: 0.000123, UOM: "s"}, "t=0.000123s"},
		{Perfdata{Label: "big", Value: 18446744073709551615, UOM: "B"}, "big=18446744073709552000B"},
	} {
		if err := c.p.Validate(); err != nil {
			t.Errorf("%+v: %v", c.p, err)
		}
		if got := c.p.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	for _, p := range []Perfdata{
		{Label: "", Value: 1}, {Label: "a=b", Value: 1}, {Label: "a|b", Value: 1}, {Label: "a\nb", Value: 1},
		{Label: "a", Value: 1, UOM: "bytes"}, {Label: "a", Value: math.NaN()}, {Label: "a", Value: math.Inf(1)},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v should not validate", p)
		}
	}
}

func TestResultWrite(t *testing.T) {
	var b bytes.Buffer
	r := Result{Status: OK, Summary: "HSM memory usage is at 0% (43968 bytes in use)",
		Perf: []Perfdata{{Label: "used", Value: 43968, UOM: "B", Min: Float(0), Max: Float(14286412)},
			{Label: "usage", Value: 0.31, UOM: "%", Warn: MustRange("75"), Crit: MustRange("90")}},
		Long: []string{"token A", "token B"}}
	if code := r.Write(&b); code != 0 {
		t.Errorf("exit %d", code)
	}
	want := "OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90\ntoken A\ntoken B\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	if code := (Result{Status: Critical, Summary: "a|b\nc"}).Write(&b); code != 2 || b.String() != "CRITICAL: a/b c\n" {
		t.Errorf("got %d %q", code, b.String())
	}
	b.Reset()
	if code := (Result{Status: 9, Summary: "odd"}).Write(&b); code != 3 || b.String() != "UNKNOWN: odd\n" {
		t.Errorf("a status out of range must be UNKNOWN: %d %q", code, b.String())
	}
	b.Reset()
	r = Result{Status: Warning, Summary: "s", Perf: []Perfdata{{Label: "a=b", Value: 1}, {Label: "ok", Value: 2}}}
	if code := r.Write(&b); code != 1 || !strings.HasPrefix(b.String(), "WARNING: s | ok=2\nperfdata left out: ") {
		t.Errorf("invalid perfdata must be left out and said: %d %q", code, b.String())
	}
	if got := Unknownf("no token %q", "X").Line(); got != `UNKNOWN: no token "X"` {
		t.Errorf("Unknownf: %q", got)
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]Timeout{
		"10":          {10 * time.Second, Unknown},
		"0.5":         {500 * time.Millisecond, Unknown},
		"250ms":       {250 * time.Millisecond, Unknown},
		"2s":          {2 * time.Second, Unknown},
		"10:critical": {10 * time.Second, Critical},
		"3:WARNING":   {3 * time.Second, Warning},
		"1m:ok":       {time.Minute, OK},
	} {
		got, err := ParseTimeout(in)
		if err != nil || got != want {
			t.Errorf("ParseTimeout(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "x", "10:bad", "NaN", "1e30", "48h", "0s"} {
		if got, err := ParseTimeout(in); err == nil {
			t.Errorf("ParseTimeout(%q) = %+v, want an error", in, got)
		}
	}
	if s := (Timeout{After: 10 * time.Second}).String(); s != "10s" {
		t.Errorf("String: %q", s)
	}
	if s := (Timeout{After: 1500 * time.Millisecond}).String(); s != "1.5s" {
		t.Errorf("String: %q", s)
	}
}

func TestTimeoutRunReturnsProbeResult(t *testing.T) {
	to := Timeout{After: 10 * time.Second, State: Unknown}
	r := to.Run(context.Background(), func(context.Context) Result { return Result{Status: Warning, Summary: "w"} }, nil)
	if r.Status != Warning || r.Summary != "w" {
		t.Errorf("got %+v", r)
	}
	r = to.Run(context.Background(), func(context.Context) Result { panic("boom") }, nil)
	if r.Status != Unknown || !strings.Contains(r.Summary, "boom") {
		t.Errorf("a panic must become UNKNOWN: %+v", r)
	}
}

// The watchdog answers on time while the probe stays blocked (as a goroutine stuck in a C
// call would: it ignores its context). The probe is released only after Run returned.
func TestTimeoutRunAbandonsStuckProbe(t *testing.T) {
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	to := Timeout{After: 100 * time.Millisecond, State: Unknown}
	start := time.Now()
	r := to.Run(context.Background(), func(context.Context) Result {
		defer wg.Done()
		<-release // stuck until the test lets go, whatever the context says
		return Result{Status: OK, Summary: "too late"}
	}, func() string { return "waiting for C_GetTokenInfo" })
	took := time.Since(start)
	close(release)
	wg.Wait()
	if r.Status != Unknown || r.Summary != "timed out after 0.1s waiting for C_GetTokenInfo" {
		t.Errorf("got %+v", r)
	}
	if took < 100*time.Millisecond || took > 5*time.Second {
		t.Errorf("returned after %v, want about 100ms", took)
	}
	r = Timeout{After: 50 * time.Millisecond, State: Critical}.Run(context.Background(),
		func(ctx context.Context) Result { <-ctx.Done(); return Result{Status: OK} }, nil)
	if r.Status != Critical || r.Summary != "timed out after 0.05s" {
		t.Errorf("-t N:critical: got %+v", r)
	}
}

func TestTimeoutRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("SIGTERM"))
	r := Timeout{After: time.Hour, State: Unknown}.Run(ctx, func(ctx context.Context) Result {
		select {} // never returns
	}, nil)
	if r.Status != Unknown || r.Summary != "interrupted (SIGTERM)" {
		t.Errorf("got %+v", r)
	}
}

func TestTrace(t *testing.T) {
	var b bytes.Buffer
	tr := NewTrace(&b, Verbose)
	tr.Printf(Verbose, "step %d", 1)
	tr.Printf(Config, "hidden at -v")
	tr.Printf(Quiet, "level 0 is never traced")
	tr.Step("C_Initialize")
	if !tr.Enabled(Verbose) || tr.Enabled(Config) {
		t.Error("Enabled is wrong")
	}
	tr.Close()
	tr.Printf(Verbose, "after close")
	if b.String() != "step 1\n" || tr.Current() != "C_Initialize" {
		t.Errorf("got %q, step %q", b.String(), tr.Current())
	}
	var nilTrace *Trace
	nilTrace.Printf(Verbose, "x")
	nilTrace.Step("x")
	nilTrace.Close()
	if nilTrace.Enabled(Verbose) || nilTrace.Current() != "" {
		t.Error("a nil trace must do nothing")
	}
	// Concurrent use is safe (run with -race).
	tr = NewTrace(&bytes.Buffer{}, Debug)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				tr.Step("s%d", j)
				tr.Printf(Debug, "l%d", j)
			}
		}()
	}
	tr.Close()
	wg.Wait()
}

func TestOptions(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.Register(fs, "the value", "75", "90")
	if err := fs.Parse([]string{"-vvv", "-w", "10:", "--critical", "@1:2", "-t", "0.5:critical"}); err != nil {
		t.Fatal(err)
	}
	th, to, err := o.Parse()
	if err != nil || o.Verbose != 3 || th.Warn.String() != "10:" || th.Crit.String() != "@1:2" || to != (Timeout{500 * time.Millisecond, Critical}) {
		t.Errorf("got %+v %+v %+v %v", o, th, to, err)
	}
	o = Options{}
	fs = pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.Register(fs, "the value", "75", "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if th, to, err := o.Parse(); err != nil || th.Warn.String() != "75" || th.Crit != nil || to != (Timeout{DefaultTimeout, Unknown}) {
		t.Errorf("defaults: %+v %+v %v", th, to, err)
	}
	o.Timeout = "never"
	if _, _, err := o.Parse(); err == nil || !strings.Contains(err.Error(), `timeout "never"`) {
		t.Errorf("bad -t: %v", err)
	}
}
