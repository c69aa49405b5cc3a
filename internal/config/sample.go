package config

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Sample is a whole configuration file made of every registered kind's sample: the
// configuration reference (docs/configuration.md) shows it and a test loads it, so
// neither can drift from the code.
func Sample() string {
	var b strings.Builder
	b.WriteString(`# hsmwatch serve --config FILE (generated from every kind's sample configuration)
site: paris-dc1                    # names this daemon's rows when sites share one PostgreSQL
state_dir: /var/lib/hsmwatch       # the SQLite store, checkpoints and spools
store:
  dsn: sqlite:/var/lib/hsmwatch/hsmwatch.db   # or postgres://hsmwatch@db/hsmwatch (password in PGPASSWORD or ~/.pgpass)
  max_age: 90d                     # delete events and samples older than this
  max_size_mb: 2048                # bound the SQLite file (PostgreSQL: this site's rows)
http:
  listen: 127.0.0.1:9841           # dashboard, /api/, /metrics, /-/reload
rules: [/etc/hsmwatch/rules.d]     # rule files or folders added to the shipped catalog
mibs: [/usr/share/snmp/mibs/hsm]   # vendor MIB files or folders (Dinamo-MIB.txt, Luna MIBs)
state:
  stale_after: 24h                 # an alarm open this long is stale
  dedup_window: 5m                 # the same event again within it is a repeat, counted
  flap_count: 4                    # this many asserts within flap_window make an alarm flap,
  flap_window: 10m                 # and its clear is held for hold_down
  hold_down: 5m
  storm_limit: 500                 # events per storm_window of one host before a storm is declared
  storm_window: 1m
  ignore:
    - rule: luna.ssh.*
      reason: jump host logins
`)
	for _, role := range []component.Role{component.SourceRole, component.SinkRole} {
		b.WriteString(string(role) + ":\n")
		for _, k := range component.Kinds(role) {
			b.WriteString("  # " + k.Key + ": " + k.Doc + "\n")
			b.WriteString("  " + k.Key + ":")
			if k.Single && !strings.Contains(strings.TrimSpace(k.Sample), "\n") && !strings.HasPrefix(strings.TrimSpace(k.Sample), "#") {
				b.WriteString(" " + strings.TrimSpace(k.Sample) + "\n")
				continue
			}
			b.WriteString("\n")
			for _, line := range strings.Split(strings.TrimRight(k.Sample, "\n"), "\n") {
				b.WriteString("    " + line + "\n")
			}
		}
	}
	return b.String()
}
