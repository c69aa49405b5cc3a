package sim

import (
	"fmt"
	"strings"
	"time"
)

// lunaAlarms is the list of the Luna PCIe HSM alarm code specification ("List of HSM
// Alarm Codes"): code and message. "nn" stands for a temperature in Celsius, "xx" for an
// alarm id, "x" for a fan number.
func lunaAlarmText(code string) (string, bool) {
	switch code {
	case "0001":
		return "Soft tamper - over voltage", true
	case "0002":
		return "Soft tamper - temperature (nnC)", true
	case "0003":
		return "Soft tamper - indeterminate cause", true
	case "0004":
		return "Hard tamper - high temperature", true
	case "0005":
		return "Hard tamper - low temperature", true
	case "0006":
		return "Hard tamper - over voltage", true
	case "0009":
		return "Hard tamper - oscillator failure", true
	case "0010":
		return "Decommission signal triggered", true
	case "0011":
		return "Hard tamper - indeterminate cause", true
	case "0012":
		return "Hardware Error", true
	case "0013":
		return "High Temperature - nnC", true
	case "0014":
		return "Low Battery", true
	case "0015":
		return "PCIe Link Failure", true
	case "0016":
		return "Device Error", true
	case "0017":
		return "Request Timed Out", true
	case "1000":
		return "Unknown alarm ID xx in boot loader", true
	case "1001":
		return "HSM restart required", true
	case "1003":
		return "HSM halted - internal boot loader error", true
	case "1004":
		return "Warning - boot loader diagnostic error", true
	case "1005":
		return "HSM FW signature check failed", true
	case "1006":
		return "Soft tamper temperature/voltage", true
	case "1007":
		return "Hard tamper - high temperature", true
	case "1008":
		return "Hard tamper - low temperature", true
	case "1009":
		return "Hard tamper - over voltage", true
	case "1012":
		return "Hard tamper - oscillator failure", true
	case "1013":
		return "Hard tamper - tamper configuration invalid", true
	case "1014":
		return "Chassis opened", true
	case "1015":
		return "HSM removed from chassis", true
	case "1016":
		return "Decommission signal triggered", true
	case "2000":
		return "Unknown alarm ID xx in firmware", true
	case "2001":
		return "High temperature warning activated", true
	case "2002":
		return "High temperature warning deactivated", true
	case "2003":
		return "Battery low voltage warning", true
	case "2004":
		return "Battery depleted", true
	case "2005":
		return "HSM deactivated", true
	case "2006":
		return "HSM decommissioned by FW", true
	case "2007":
		return "HSM zeroized", true
	case "2008":
		return "Internal data corruption", true
	case "2009":
		return "HSM halted - internal firmware error", true
	case "2010":
		return "HSM locked - tamper clear required", true
	case "2011":
		return "HSM unlocked - tamper clear done", true
	case "2012":
		return "HSM in secure transport mode", true
	case "2013":
		return "HSM recovered from secure transport mode", true
	case "2014":
		return "Auto-activation data invalid – HSM deactivated", true
	case "2015":
		return "Hard tamper - high temperature (L3 only)", true
	case "2016":
		return "Hard tamper - low temperature (L3 only)", true
	case "2017":
		return "Hard tamper - over voltage (L3 only)", true
	case "2018":
		return "Hard tamper - oscillator failure (L3 only)", true
	case "2019":
		return "Hard tamper - tamper configuration invalid (L3 only)", true
	case "2020":
		return "Chassis opened", true
	case "2021":
		return "HSM was removed from chassis", true
	case "2022":
		return "Decommission signal triggered", true
	case "2023":
		return "HSM fan x failure", true
	}
	return "", false
}

// alarmLocked writes an ALM line as the appliance's kernel logs it (the HSM's own
// alarms, from the boot loader and firmware, carry "[HSM]"; the host driver's do not)
// and sends cryptoAttentionNotify (the guide: "For Luna SA 7 ... the kernel process, body
// of log message contains the text ALM"). The alarm's effect shows in SNMP: a
// deactivation deactivates the partitions, a zeroization or decommission erases them.
func (l *Luna) alarmLocked(now time.Time, a *AlarmAction) (ems []emission, eff effects, err error) {
	code := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(a.Code)), "ALM")
	if len(code) < 4 {
		code = strings.Repeat("0", 4-len(code)) + code
	}
	text, ok := lunaAlarmText(code)
	if !ok {
		return nil, eff, fmt.Errorf("alarm: no ALM%s in the alarm-code spec", code)
	}
	if a.Text != "" {
		text = a.Text
	}
	if strings.Contains(text, "nnC") {
		temp := a.Temperature
		if temp == 0 {
			temp = 82
		}
		text = strings.Replace(text, "nn", fmt.Sprint(temp), 1)
	}
	tag := "[HSM] "
	if code[0] == '0' {
		tag = ""
	}
	rec := l.logLocked(now, "kern", "info", "kernel", "k7pf0: "+tag+"ALM"+code+": "+text)
	ems = append(ems, emission{log: rec}, emission{trap: l.trapLocked(now, "cryptoAttentionNotify", rec, true)})
	switch code {
	case "2005", "2014":
		for _, p := range l.partitions {
			p.activated = false
		}
	case "2006", "2007":
		l.zeroizeLocked()
		eff.partitions = true
	}
	return ems, eff, nil
}
