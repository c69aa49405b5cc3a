package poller

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the result for people (hsmwatch poll): what the HSM is, its health
// items, its tables, and what the poller could not do.
func (r *Result) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "target\t%s\n", r.Target)
	if r.Detection != nil {
		fmt.Fprintf(tw, "profile\t%s (%s)\n", r.Profile, r.Detection.Reason)
	}
	for _, f := range r.Identity {
		fmt.Fprintf(tw, "%s\t%s\n", f.Label, f.Value)
	}
	fmt.Fprintf(tw, "health\t%s\n", strings.ToUpper(r.State))
	tw.Flush()

	if len(r.Items) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STATE\tHEALTH ITEM\tVALUE\tWARN\tCRIT")
		for _, it := range r.Items {
			name := it.Title
			if it.Instance != "" {
				name += " " + it.Instance
			}
			value := it.Text
			if !it.Known() {
				value = it.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.State, name, value, dash(it.Warn), dash(it.Crit))
		}
		tw.Flush()
	}
	for _, v := range r.Views {
		fmt.Fprintf(w, "\n%s\n", v.Title)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(v.Columns, "\t")))
		for _, row := range v.Rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if len(v.Rows) == 0 {
			fmt.Fprintln(tw, "(none)")
		}
		tw.Flush()
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
