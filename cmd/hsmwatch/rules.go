package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

func (a *app) rulesCommand() *cobra.Command {
	var paths []string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, show, test and lint the classification rules",
		Long: `The rule catalog is data: YAML shipped inside hsmwatch, plus the operator's files given
with --rules (a file or a folder, repeatable) that replace shipped rules by id and add new ones.`,
	}
	cmd.PersistentFlags().StringArrayVar(&paths, "rules", nil, "rule file or folder added to the shipped catalog (repeatable)")
	load := func() (*classify.Catalog, error) { return classify.Load(paths...) }
	cmd.AddCommand(
		&cobra.Command{Use: "list", Short: "List every rule: id, component, class, level, title",
			Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				c, err := load()
				if err != nil {
					return err
				}
				return a.listRules(c)
			}},
		&cobra.Command{Use: "show ID", Short: "Show one rule in full", Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				c, err := load()
				if err != nil {
					return err
				}
				return a.showRule(c, args[0])
			}},
		&cobra.Command{Use: "test [PATH]...", Short: "Check that every rule's example lines classify to it",
			RunE: func(_ *cobra.Command, args []string) error {
				c, err := classify.Load(append(paths, args...)...)
				if err != nil {
					return err
				}
				return a.testRules(c)
			}},
		&cobra.Command{Use: "lint [PATH]...", Short: "Find rules that cannot load or can never match",
			RunE: func(_ *cobra.Command, args []string) error {
				return a.lintRules(append(paths, args...))
			}},
	)
	return cmd
}

func (a *app) listRules(c *classify.Catalog) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCOMPONENT\tCLASS\tLEVEL\tNOTIFICATION\tTITLE")
	for _, r := range c.Rules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Component, dash(r.Class), r.Level, dash(r.Notification), r.Title)
	}
	return tw.Flush()
}

func (a *app) showRule(c *classify.Catalog, id string) error {
	r, ok := c.Rule(id)
	if !ok {
		return fmt.Errorf("no rule %q (hsmwatch rules list shows them)", id)
	}
	w := a.stdout
	fmt.Fprintf(w, "id:           %s\nfrom:         %s\ncomponent:    %s\nclass:        %s\nlevel:        %s\ntitle:        %s\n",
		r.ID, r.Origin, r.Component, dash(r.Class), r.Level, r.Title)
	if r.Notification != "" {
		fmt.Fprintf(w, "notification: %s\n", r.Notification)
	}
	if r.Assert.Set {
		fmt.Fprintf(w, "assert:       %s\n", r.Assert.Expr)
	}
	if r.Key != "" {
		fmt.Fprintf(w, "key:          %s\n", r.Key)
	}
	if len(r.Clears) > 0 {
		fmt.Fprintf(w, "clears:       %s\n", strings.Join(r.Clears, ", "))
	}
	if len(r.Tags) > 0 {
		fmt.Fprintf(w, "tags:         %s\n", strings.Join(r.Tags, ", "))
	}
	fmt.Fprintf(w, "priority:     %d\nmatch:\n", r.Priority)
	m := r.Match
	for _, kv := range [][2]string{{"source", strings.Join(m.Source, ", ")}, {"process", strings.Join(m.Process, ", ")},
		{"facility", strings.Join(m.Facility, ", ")}, {"severity", strings.Join(m.Severity, ", ")}, {"host", m.Host},
		{"contains", quoteAll(m.Contains)}, {"any of", quoteAll(m.ContainsAny)}, {"regex", m.Regex}, {"fields", fieldsText(m.Fields)}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "  %-9s %s\n", kv[0]+":", kv[1])
		}
	}
	fmt.Fprintf(w, "meaning:\n  %s\n", dash(r.Meaning))
	fmt.Fprintf(w, "action:\n  %s\n", dash(r.Action))
	fmt.Fprintln(w, "examples:")
	for _, ex := range r.Examples {
		fmt.Fprintf(w, "  %s\n", ex.Line)
	}
	return nil
}

func (a *app) testRules(c *classify.Catalog) error {
	failures := c.Test()
	examples := 0
	for _, r := range c.Rules() {
		examples += len(r.Examples)
	}
	for _, f := range failures {
		fmt.Fprintln(a.stdout, f.Error())
	}
	fmt.Fprintf(a.stdout, "%d rules, %d examples: %d passed, %d failed\n", len(c.Rules()), examples, examples-len(failures), len(failures))
	if len(failures) > 0 {
		return exitError{code: 1}
	}
	return nil
}

func (a *app) lintRules(paths []string) error {
	findings, err := classify.Lint(paths...)
	if err != nil {
		fmt.Fprintln(a.stdout, err)
		return exitError{code: 1}
	}
	for _, f := range findings {
		fmt.Fprintln(a.stdout, f)
	}
	fmt.Fprintf(a.stdout, "%d findings\n", len(findings))
	if len(findings) > 0 {
		return exitError{code: 1}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func fieldsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}
