package usm

// USM report counters (RFC 3414 5): the one variable of a Report that tells the sender
// why its message was refused.
const (
	OIDUnsupportedSecLevels = ".1.3.6.1.6.3.15.1.1.1.0"
	OIDNotInTimeWindows     = ".1.3.6.1.6.3.15.1.1.2.0"
	OIDUnknownUserNames     = ".1.3.6.1.6.3.15.1.1.3.0"
	OIDUnknownEngineIDs     = ".1.3.6.1.6.3.15.1.1.4.0"
	OIDWrongDigests         = ".1.3.6.1.6.3.15.1.1.5.0"
	OIDDecryptionErrors     = ".1.3.6.1.6.3.15.1.1.6.0"
)

// TimeWindow is RFC 3414 3.2.7's 150 seconds: how far a message's engine time may lag
// the receiver's notion of the authoritative engine's time.
const TimeWindow = 150

// MaxBoots is the latched value of snmpEngineBoots (RFC 3414 2.2.2): a message carrying
// it is never timely.
const MaxBoots = 1<<31 - 1
