package classify_test

import (
	"regexp"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// placeholder matches the manual's stand-ins for a value ("nnC", "nn degrees", "xx"):
// a title is shown on every alarm as is, so it must read as words, not as a template.
var placeholder = regexp.MustCompile(`\b(nn|nnC|xx|xxx|NNNN)\b`)

// TestTitlesHaveNoPlaceholder keeps the shipped titles free of the manuals' placeholders
// (the dashboard showed "High Temperature - nnC" for an alarm of 82C).
func TestTitlesHaveNoPlaceholder(t *testing.T) {
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat.Rules() {
		if placeholder.MatchString(r.Title) {
			t.Errorf("rule %s: title %q holds a placeholder", r.ID, r.Title)
		}
	}
}
