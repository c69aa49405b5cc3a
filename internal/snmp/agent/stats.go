package agent

import "sync/atomic"

// counters is Stats kept with atomic adds: Serve counts while others read.
type counters struct {
	requests, responses, badCommunity, badVersion, malformed    atomic.Uint64
	unknownUser, wrongDigest, decryptionErrors, notInTimeWindow atomic.Uint64
	unknownEngineID, unsupportedSecLevel, setRefused            atomic.Uint64
	notifications, notificationErrors                           atomic.Uint64
}

// Stats returns the counters so far. Requests counts every datagram received;
// Responses every answer sent, SNMPv3 Reports included.
func (a *Agent) Stats() Stats {
	c := &a.count
	return Stats{
		Requests:            c.requests.Load(),
		Responses:           c.responses.Load(),
		BadCommunity:        c.badCommunity.Load(),
		BadVersion:          c.badVersion.Load(),
		Malformed:           c.malformed.Load(),
		UnknownUser:         c.unknownUser.Load(),
		WrongDigest:         c.wrongDigest.Load(),
		DecryptionErrors:    c.decryptionErrors.Load(),
		NotInTimeWindow:     c.notInTimeWindow.Load(),
		UnknownEngineID:     c.unknownEngineID.Load(),
		UnsupportedSecLevel: c.unsupportedSecLevel.Load(),
		SetRefused:          c.setRefused.Load(),
		Notifications:       c.notifications.Load(),
		NotificationErrors:  c.notificationErrors.Load(),
	}
}
