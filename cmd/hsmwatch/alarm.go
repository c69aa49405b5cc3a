package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/web/api"
)

// alarmClient talks to a running daemon's API.
type alarmClient struct {
	base   string
	by     string
	client *http.Client
	// user signs in with basic auth (--user), its password read from
	// $HSMWATCH_PASSWORD, never from the command line; caFile trusts a private CA.
	user, password, caFile string
	csrf                   string // the token of GET /api/csrf, fetched at the first action
}

// setup readies the client once the flags are parsed.
func (c *alarmClient) setup() error {
	c.password = os.Getenv("HSMWATCH_PASSWORD")
	if c.caFile == "" {
		return nil
	}
	pem, err := os.ReadFile(c.caFile)
	if err != nil {
		return fmt.Errorf("--ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("--ca-file %s: no PEM certificate", c.caFile)
	}
	c.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return nil
}

// apiError is an answer of the API other than 2xx: its message is the API's.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// do sends a request (body marshalled as JSON when not nil) and decodes a 2xx answer
// into out.
func (c *alarmClient) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	u := strings.TrimSuffix(c.base, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return fmt.Errorf("--url %q: %w", c.base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.by != "" {
		req.Header.Set(api.ActorHeader, c.by)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
		if method != http.MethodGet && path != "/api/csrf" {
			if c.csrf == "" {
				var tok struct{ Token string }
				if err := c.do(ctx, http.MethodGet, "/api/csrf", nil, nil, &tok); err != nil {
					return err
				}
				c.csrf = tok.Token
			}
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the daemon at %s cannot be reached (is hsmwatch serve running? see --url): %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("HTTP %d from %s (not hsmwatch's API?)", resp.StatusCode, u)
		}
		return &apiError{resp.StatusCode, e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the API's JSON: %w", method, u, err)
	}
	return nil
}

func defaultActor() string {
	for _, k := range []string{"HSMWATCH_ACTOR", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

func (a *app) alarmCommand() *cobra.Command {
	c := &alarmClient{client: &http.Client{Timeout: 30 * time.Second}}
	cmd := &cobra.Command{
		Use:   "alarm list|ack|close|silence|unsilence|maintenance",
		Short: "Operator actions on a running daemon's alarms, through its API",
		Long: `alarm lists a running daemon's alarms and acts on them through its HTTP API (--url):
acknowledge (the alarm stays open, its repeats no longer notify), close by hand (an alarm
that will never see its clear), silence events by host, rule and level globs for a time,
and weekly maintenance windows per host. Every action is recorded with who (--by, default
$HSMWATCH_ACTOR or $USER), when and a comment.

Exit status: 0 done, 1 the daemon refused or cannot be reached, 2 the command line is wrong.`,
	}
	cmd.PersistentFlags().StringVar(&c.base, "url", "http://127.0.0.1:9841", "the daemon's HTTP address (http.listen)")
	cmd.PersistentFlags().StringVar(&c.by, "by", defaultActor(), "who acts (recorded with the action; a daemon that authenticates records --user instead)")
	cmd.PersistentFlags().StringVar(&c.user, "user", os.Getenv("HSMWATCH_USER"), "sign in with basic auth as this user (default $HSMWATCH_USER); the password is read from $HSMWATCH_PASSWORD")
	cmd.PersistentFlags().StringVar(&c.caFile, "ca-file", "", "PEM file of the CA that signed the daemon's certificate (https --url)")
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return c.setup() }
	cmd.AddCommand(a.alarmList(c), a.alarmAck(c, "ack", "acknowledge"), a.alarmAck(c, "close", "close"),
		a.alarmSilence(c), a.alarmUnsilence(c), a.alarmMaintenance(c))
	return cmd
}

// fail prints an API or connection error and returns exit status 1.
func (a *app) fail(what string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintf(a.stderr, "hsmwatch alarm %s: %v\n", what, err)
	return exitError{code: 1}
}

func (a *app) alarmList(c *alarmClient) *cobra.Command {
	var host, level, state, sortBy string
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the open alarms (--all: recent ones, cleared included)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"host": host, "level": level, "state": state, "sort": sortBy} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if all {
				q.Set("open", "false")
			}
			var out struct {
				Alarms []struct {
					store.Alarm
					Silenced string `json:"silenced"`
					Stale    bool   `json:"stale"`
				} `json:"alarms"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/alarms", q, nil, &out); err != nil {
				return a.fail("list", err)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tLEVEL\tHOST\tKEY\tOPENED\tSTATE\tTITLE")
			now := time.Now()
			for _, al := range out.Alarms {
				var marks []string
				switch {
				case !al.Cleared.IsZero():
					marks = append(marks, "cleared")
				default:
					marks = append(marks, "open")
				}
				if al.Acknowledged != nil {
					marks = append(marks, "acknowledged by "+al.Acknowledged.By)
				}
				if al.Silenced != "" {
					marks = append(marks, "silenced ("+al.Silenced+")")
				}
				if al.Stale {
					marks = append(marks, "stale")
				}
				title := al.Title
				if title == "" {
					title = al.Rule
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s ago\t%s\t%s\n", al.ID, al.Level, al.Host, al.Key,
					age(now.Sub(al.Opened)), strings.Join(marks, ", "), title)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&host, "host", "", "only this host")
	f.StringVar(&level, "level", "", "only this level or more serious (critical, major, minor, warning, info, debug)")
	f.StringVar(&state, "state", "", "only open, acknowledged, silenced or stale alarms")
	f.StringVar(&sortBy, "sort", "", "age (oldest first) or level (most serious first)")
	f.BoolVar(&all, "all", false, "recent alarms, cleared included")
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// age reads as whole days beyond two days, else hours and minutes.
func age(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func parseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s: want an id (a positive number, see hsmwatch alarm list); got %q", what, s)
	}
	return id, nil
}

// alarmAck is "ack" and "close": POST /api/alarms/{id}/{verb}.
func (a *app) alarmAck(c *alarmClient, verb, action string) *cobra.Command {
	var comment string
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: strings.ToUpper(action[:1]) + action[1:] + " an alarm (ID from hsmwatch alarm list)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("alarm", args[0])
			if err != nil {
				return err
			}
			var al store.Alarm
			err = c.do(cmd.Context(), http.MethodPost, fmt.Sprintf("/api/alarms/%d/%s", id, verb), nil,
				map[string]string{"comment": comment}, &al)
			if err != nil {
				return a.fail(verb, err)
			}
			// Who the daemon recorded: the signed-in user when it authenticates.
			by := c.by
			if rec := map[string]*store.Action{"ack": al.Acknowledged, "close": al.Closed}[verb]; rec != nil {
				by = rec.By
			}
			fmt.Fprintf(a.stdout, "alarm %d (%s %s) %sd by %s\n", al.ID, al.Host, al.Key, action, by)
			return nil
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "why (required to close)")
	if verb == "close" {
		_ = cmd.MarkFlagRequired("comment")
	}
	return cmd
}

func (a *app) alarmSilence(c *alarmClient) *cobra.Command {
	var host, rule, level, comment, starts, until string
	var forDur time.Duration
	var list, all bool
	cmd := &cobra.Command{
		Use:   "silence (--host GLOB | --rule GLOB | --level GLOB) (--for DURATION | --until TIME) --comment TEXT",
		Short: "Silence events for a time: stored, never sent to webhooks, Alertmanager, SNMP or syslog (--list: the silences)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				q := url.Values{}
				if all {
					q.Set("all", "true")
				}
				var out struct{ Silences []store.Silence }
				if err := c.do(cmd.Context(), http.MethodGet, "/api/silences", q, nil, &out); err != nil {
					return a.fail("silence", err)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tHOST\tRULE\tLEVEL\tSTARTS\tENDS\tBY\tCOMMENT")
				for _, s := range out.Silences {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, orAny(s.Host), orAny(s.Rule), orAny(s.Level),
						s.Starts.UTC().Format(time.RFC3339), s.Ends.UTC().Format(time.RFC3339), s.CreatedBy, s.Comment)
				}
				return tw.Flush()
			}
			if (forDur > 0) == (until != "") {
				return errors.New("silence: give one of --for and --until")
			}
			body := map[string]string{"host": host, "rule": rule, "level": level, "comment": comment,
				"starts": starts, "ends": until}
			if forDur > 0 {
				body["duration"] = forDur.String()
			}
			var s store.Silence
			if err := c.do(cmd.Context(), http.MethodPost, "/api/silences", nil, body, &s); err != nil {
				return a.fail("silence", err)
			}
			fmt.Fprintf(a.stdout, "silence %d until %s\n", s.ID, s.Ends.UTC().Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&host, "host", "", "host glob (luna-*)")
	f.StringVar(&rule, "rule", "", "rule glob (luna.ipmi.*)")
	f.StringVar(&level, "level", "", "level glob (info)")
	f.DurationVar(&forDur, "for", 0, "how long, from --starts (2h, 90m)")
	f.StringVar(&until, "until", "", "until this RFC 3339 time")
	f.StringVar(&starts, "starts", "", "from this RFC 3339 time (default now)")
	f.StringVar(&comment, "comment", "", "why (required)")
	f.BoolVar(&list, "list", false, "list the silences in force or to come")
	f.BoolVar(&all, "all", false, "with --list: expired ones too")
	return cmd
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func (a *app) alarmUnsilence(c *alarmClient) *cobra.Command {
	return &cobra.Command{
		Use:   "unsilence ID",
		Short: "End a silence now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("silence", args[0])
			if err != nil {
				return err
			}
			var s store.Silence
			if err := c.do(cmd.Context(), http.MethodDelete, fmt.Sprintf("/api/silences/%d", id), nil, nil, &s); err != nil {
				return a.fail("unsilence", err)
			}
			fmt.Fprintf(a.stdout, "silence %d ended at %s\n", s.ID, s.Ends.UTC().Format(time.RFC3339))
			return nil
		},
	}
}

func (a *app) alarmMaintenance(c *alarmClient) *cobra.Command {
	var host, weekdays, start, zone, comment string
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "maintenance list | add --host GLOB --start HH:MM --duration D [--weekdays mon,sat] [--zone Z] --comment TEXT | delete ID",
		Short: "Weekly maintenance windows: a host's events in one are treated as silenced",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch {
			case args[0] == "list" && len(args) == 1:
				var out struct{ Maintenance []store.Maintenance }
				if err := c.do(ctx, http.MethodGet, "/api/maintenance", nil, nil, &out); err != nil {
					return a.fail("maintenance", err)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tHOST\tWEEKDAYS\tSTART\tDURATION\tZONE\tBY\tCOMMENT")
				for _, m := range out.Maintenance {
					days := strings.Join(m.Weekdays, ",")
					if days == "" {
						days = "every day"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Host, days, m.Start,
						time.Duration(m.Duration), orUTC(m.Zone), m.CreatedBy, m.Comment)
				}
				return tw.Flush()
			case args[0] == "add" && len(args) == 1:
				body := map[string]any{"host": host, "start": start, "duration": duration.String(), "zone": zone, "comment": comment}
				if weekdays != "" {
					body["weekdays"] = strings.Split(weekdays, ",")
				}
				var m store.Maintenance
				if err := c.do(ctx, http.MethodPost, "/api/maintenance", nil, body, &m); err != nil {
					return a.fail("maintenance", err)
				}
				fmt.Fprintf(a.stdout, "maintenance window %d added\n", m.ID)
				return nil
			case args[0] == "delete" && len(args) == 2:
				id, err := parseID("maintenance", args[1])
				if err != nil {
					return err
				}
				if err := c.do(ctx, http.MethodDelete, fmt.Sprintf("/api/maintenance/%d", id), nil, nil, nil); err != nil {
					return a.fail("maintenance", err)
				}
				fmt.Fprintf(a.stdout, "maintenance window %d deleted\n", id)
				return nil
			}
			return fmt.Errorf("maintenance: want list, add or delete ID; got %q", strings.Join(args, " "))
		},
	}
	f := cmd.Flags()
	f.StringVar(&host, "host", "", "host glob (add)")
	f.StringVar(&weekdays, "weekdays", "", "mon,tue,...; every day when not given (add)")
	f.StringVar(&start, "start", "", "HH:MM in --zone (add)")
	f.DurationVar(&duration, "duration", 0, "how long each window lasts (add)")
	f.StringVar(&zone, "zone", "", "IANA time zone, UTC when not given (add)")
	f.StringVar(&comment, "comment", "", "why (add)")
	return cmd
}

func orUTC(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}
