package sim

import "strconv"

// The Dinamo HSM's OIDs. The Dinamo HSM SNMP documentation names the proprietary objects
// and the 30 trap events but not their numbers (they are in the vendor's Dinamo-MIB.txt,
// which is not public). Everything under enterprise 41054 here is therefore a stand-in, declared by
// the project's own mibs/DINAMO-STANDIN-MIB.txt in a layout of its own:
//
//	dinamo                 1.3.6.1.4.1.41054
//	  dinamoProducts       .1      dinamoHsm(1) is the sysObjectID
//	  dinamoHsmObjects     .2      the spec's Get objects, 1..26 in the spec's order
//	  dinamoTraps          .3
//	    dinamoNotifications .3.0   the spec's 30 trap events, 1..30 in the spec's order
//	    dinamoTrapObjects   .3.1   dinamoTrapEventText(1), sent with every trap
//	  dinamoStandInMIB     .4      the module identity
//
// Object names are the spec's, spelling included (diskBockSize). Notification names are
// those of the rule catalog (internal/classify/catalog/dinamo-traps.yaml), so that a trap
// decoded with this MIB classifies.

const (
	dinamoEnterprise = ".1.3.6.1.4.1.41054"
	dinamoObjectsOID = dinamoEnterprise + ".2"
	dinamoNotifyOID  = dinamoEnterprise + ".3.0"
	dinamoSysObject  = dinamoEnterprise + ".1.1"
	dinamoModule     = "DINAMO-STANDIN-MIB"
)

func dinamoObject(arc, name string, s Syntax) Object {
	return Object{Name: name, OID: dinamoObjectsOID + "." + arc, Syntax: s, Module: dinamoModule, StandIn: true}
}

func dinamoNotification(arc, name string) Object {
	return Object{Name: name, OID: dinamoNotifyOID + "." + arc, Module: dinamoModule, Kind: Notification, StandIn: true}
}

// dinamoEvents are the spec's 30 trap events in its order: the notification name and the
// event as the spec words it (sent in dinamoTrapEventText when no log line says more).
var dinamoEvents = []struct{ Name, Text string }{
	{"privateKeyCreated", "Creating a private key"},
	{"privateKeyDestroyed", "Destruction of a private key"},
	{"serviceStarted", "Service start"},
	{"serviceStopped", "Service stop"},
	{"serviceAutoRecovered", "Automatic service recovery"},
	{"smartCardUsed", "Use of smart cards"},
	{"hsmShutdown", "HSM shutdown"},
	{"hsmReboot", "HSM reboot"},
	{"databaseReset", "HSM database reset"},
	{"authenticationFailure", "Authentication failure"},
	{"userPermissionsChanged", "Changing user permissions"},
	{"userCreated", "User creation"},
	{"userRemoved", "User removal"},
	{"backupGenerated", "Backup file generation"},
	{"backupRestored", "Restoring a backup file"},
	{"firmwareUpdated", "Firmware update"},
	{"privateKeyExported", "Private key export"},
	{"privateKeyImported", "Private key import"},
	{"consoleLocked", "Lock in the local HSM console"},
	{"consoleUnlocked", "Unlock in the local HSM console"},
	{"brokenLog", "Failure in the log subsystem (Broken Log)"},
	{"replicationBusy", "Replication, Busy return"},
	{"replicationPeerNotSynced", "Replication, return from Peer Not Synced"},
	{"replicationCannotPeerToPeer", "Replication, return of Cannot Peer to Peer"},
	{"replicationStorageLayerFailure", "Replication, return from Storage Layer Failure"},
	{"replicationCannotValidateEvent", "Replication, return from Cannot Validate Event"},
	{"replicationTransactionMismatch", "Replication, Transaction Mismatch return"},
	{"replicationDatabaseLiveSyncError", "Replication, return from Database Live Sync Error"},
	{"replicationTransactionLogError", "Replication, Transaction Log Error return"},
	{"replicationCannotStartManager", "Replication, return from Cannot Start Manager"},
}

func dinamoNotifications() []Object {
	out := make([]Object, len(dinamoEvents))
	for i, e := range dinamoEvents {
		out[i] = dinamoNotification(strconv.Itoa(i+1), e.Name)
	}
	return out
}

// dinamoTable is every object the Dinamo model serves or sends.
var dinamoTable = newTable(
	mib2Objects,
	[]Object{
		dinamoObject("1", "hsmUpTime", TimeTicks),
		dinamoObject("2", "cpuLoadAverage", Integer),
		dinamoObject("3", "totalMemory", Integer),
		dinamoObject("4", "usedMemory", Integer),
		dinamoObject("5", "hsmCryptoBattery", Integer),
		dinamoObject("6", "diskBockSize", Integer),
		dinamoObject("7", "diskBlockCount", Gauge32),
		dinamoObject("8", "diskFreeBlockCount", Gauge32),
		dinamoObject("9", "hsmTamperingState", Integer),
		dinamoObject("10", "hsmNodeAlias", DisplayString),
		dinamoObject("11", "usrCount", Gauge32),
		dinamoObject("12", "objCount", Gauge32),
		dinamoObject("13", "slbeLen", Gauge32),
		dinamoObject("14", "logSize", Gauge32),
		dinamoObject("15", "atokenCacheCount", Gauge32),
		dinamoObject("16", "memTotal", Integer),
		dinamoObject("17", "memAvailable", Integer),
		dinamoObject("18", "memBuffers", Integer),
		dinamoObject("19", "memCached", Integer),
		dinamoObject("20", "memActive", Integer),
		dinamoObject("21", "memInactive", Integer),
		dinamoObject("22", "anonPages", Integer),
		dinamoObject("23", "shMem", Integer),
		dinamoObject("24", "kernelSlab", Integer),
		dinamoObject("25", "kernelSReclaimable", Integer),
		dinamoObject("26", "sessionCount", Gauge32),
		{Name: "dinamoTrapEventText", OID: dinamoEnterprise + ".3.1.1", Syntax: DisplayString, Module: dinamoModule, Kind: NotifyOnly, StandIn: true},
	},
	dinamoNotifications(),
)

// DinamoObjects returns the Dinamo model's OID table.
func DinamoObjects() []Object { return dinamoTable.Objects() }
