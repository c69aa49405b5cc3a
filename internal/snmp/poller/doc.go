// Package snmppoll polls HSMs over SNMP (v2c and v3) and judges what they report.
//
// A Poller asks one HSM for the objects of its profile, derives health items (storage
// used, battery, NTLS status, error rates, ...) with thresholds, and turns state changes
// into events (source snmp-poll) that raise and clear alarms. Its numbers are also
// returned as plain samples for metrics.
//
//	profiles.yaml  the profiles as data: objects and tables by MIB name, health items,
//	               default thresholds and intervals
//	profile.go     loading and checking profiles; thresholds.go their overrides
//	resolve.go     MIB names to OIDs (bare Dinamo names under enterprise 41054)
//	target.go      where and how to ask: version, community, USM user; errors that say
//	               what to check and never show a secret
//	detect.go      which profile an agent gets, by what it serves (never sysObjectID)
//	walk.go        one poll's requests: Get of the scalars, GetBulk walks of the tables
//	counters.go    rates from counters: wraps, restarts, discontinuities
//	health.go      health items: values, ratios, rates judged against thresholds
//	events.go      state changes as events (assert on bad, clear on good again)
//	samples.go     numbers as metrics
//	state.go       what a poller remembers, saved between runs of a check
//	poller.go      the Poller: Poll, Run
package poller
