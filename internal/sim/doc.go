// Package sim simulates HSMs for the demo, the tests and load: Dinamo HSMs (SNMP v2c agent,
// the proprietary objects of the Dinamo HSM SNMP documentation under enterprise 41054, 30 trap events, the
// native event log) and Luna Network HSM 7 appliances (SNMP v3 USM agent with the
// CHRYSALIS-UTSP-MIB counters, the SAFENET-HSM-MIB HSM and partition tables, UCD memory
// and CPU, LM-SENSORS sensors; SAFENET-APPLIANCE-MIB notifications with ssLogReference;
// the appliance's syslog stream).
//
// Layout:
//
//	clock.go        the injectable clock (Real, Manual, Handover: a replayed past, then real time)
//	walk.go         values that move: seeded random walks and counters, pure functions of time
//	oids*.go        every OID the models serve or send, one editable table per vendor;
//	                the MIB files of ../../mibs declare the same (a test checks both ways)
//	mib2.go         the MIB-2 interfaces group both models serve
//	device.go       what every model shares: outputs (traps, log lines), boot time
//	dinamo.go       the Dinamo model
//	luna.go         the Luna model and its IPMI sensors; alarms.go its ALM alarms
//	logstream.go    log line formats (Luna file format, RFC 5424, Dinamo native) and sinks
//	                (syslog over UDP and TCP, files)
//	scenario.go     scripted scenarios in YAML, played once or cycling (NewCycle);
//	                scenarios/ holds the shipped ones
//	fleet.go        N simulated HSMs in one process, each on its own address; Replay plays
//	                the past without sending anything (the demo's history)
//
// Nothing here sleeps on the wall clock: the models read a Clock, and the scenario runner
// is driven by RunUntil, so tests move a Manual clock and see every value, trap and log
// line at once.
package sim
