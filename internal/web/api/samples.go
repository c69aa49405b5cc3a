package api

import (
	"context"
	"strconv"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// samples answers {"samples":[...],"truncated":false}: the history of one host's poll
// samples, oldest first (the dashboard's charts). host is required; metric, site, since,
// until narrow it; limit (1..store.MaxSampleLimit, default store.DefaultSampleLimit)
// keeps the newest samples of the range, and truncated says that older ones were left
// out.
func (h *handler) samples(ctx context.Context, p *params) ([]byte, error) {
	f := store.SampleFilter{Site: p.str("site"), Host: p.str("host"), Metric: p.str("metric")}
	if f.Host == "" {
		return nil, &paramError{"host", "required: the samples of which HSM?"}
	}
	var err error
	if f.Since, err = p.time("since"); err != nil {
		return nil, err
	}
	if f.Until, err = p.time("until"); err != nil {
		return nil, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return nil, &paramError{"until", "must be after since"}
	}
	if s := p.str("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxSampleLimit {
			return nil, &paramError{"limit", "want a whole number from 1 to " + strconv.Itoa(store.MaxSampleLimit) + "; got " + strconv.Quote(s)}
		}
		f.Limit = n
	}
	page, err := h.q.Samples(ctx, f)
	if err != nil {
		return nil, err
	}
	if page.Samples == nil {
		page.Samples = []store.Sample{}
	}
	return marshal(struct {
		Samples   []store.Sample `json:"samples"`
		Truncated bool           `json:"truncated"`
	}{page.Samples, page.Truncated})
}
