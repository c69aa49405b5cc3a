// Package contrib holds no code: its folders are what hsmwatch ships for other tools
// (Grafana, Prometheus, Icinga 2, Nagios; the packages install them under
// /usr/share/hsmwatch). Its tests check them: every PromQL expression parses (promtool),
// names only metrics that hsmwatch exports, and the alerting rules pass their unit tests.
package contrib
