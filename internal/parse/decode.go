package parse

import "github.com/hsmwatch/hsmwatch/internal/event"

// decodeMessage reads the structure that some messages carry inside the syslog message
// text, whatever header brought them: trap-test markers, lunalog descriptions, IPMI
// threshold readings and Luna PCIe ALM codes. Each decoder leaves the message alone when
// its structure is not there.
func decodeMessage(ev *event.Event) {
	decodeTrapTest(ev)
	if decodeLunalog(ev) {
		return
	}
	if decodeIPMIReading(ev) {
		return
	}
	decodeAlarm(ev)
}
