package sim

// The Luna Network HSM 7's OIDs. Public numbers (the project's design notes, "Vendor facts"):
//
//	CHRYSALIS-UTSP-MIB   1.3.6.1.4.1.12383.3.1.1   HSM counters   (arcs 1..4 in the guide's order)
//	                     1.3.6.1.4.1.12383.3.1.2   NTLS           (arcs 1..5 in the guide's order)
//	SAFENET-HSM-MIB      1.3.6.1.4.1.23629.1.5.1.2.1  hsmEntry, columns 1..21 in the guide's order
//	SAFENET-APPLIANCE-MIB 1.3.6.1.4.1.23629.1.5.2.2   ssTraps: ssLogReference(1),
//	                     fanAttentionNotify(2), diskDriveAttentionNotify(5), ntlsAttentionNotify(6)
//
// The arcs inside the two CHRYSALIS groups follow the order of the guide's snmpwalk output,
// which a walk prints in OID order. Stand-ins (StandIn: true), numbers of our own because
// the vendor's MIB is not public: the partition table (SAFENET-HSM-MIB .1.5.1.3),
// appSoftwareVersion, and the power supply (3), motherboard (4) and crypto (7)
// notifications, numbered by the guide's order of the six categories (fan, power supply,
// motherboard, disk drive, NTLS, crypto), which the known arcs 2, 5 and 6 fit.
//
// Standard MIBs: UCD-SNMP-MIB memory (.2021.4) and systemStats (.2021.11), LM-SENSORS-MIB
// (.2021.13.16) temperature, fan and voltage tables. The appliance reports only
// temperatures in LM-SENSORS ("We support only CPU and mother board temperature"); the
// simulator also fills the fan and voltage tables so that a scenario's IPMI readings can
// be polled; they are an extension, documented as such.
//
// Table rows are indexed by serial strings as RFC 2578 encodes an INDEX DisplayString
// without IMPLIED: the length, then one arc per byte. hsmTable: INDEX { hsmSerialNumber };
// hsmPartitionTable: INDEX { hsmSerialNumber, hsmPartitionSerialNumber }.

const (
	chrysalisHSM       = ".1.3.6.1.4.1.12383.3.1.1"
	chrysalisNTLS      = ".1.3.6.1.4.1.12383.3.1.2"
	safenetLuna        = ".1.3.6.1.4.1.23629.1.5"
	hsmEntryOID        = safenetLuna + ".1.2.1"
	hsmPartitionEntry  = safenetLuna + ".1.3.1"
	applianceOID       = safenetLuna + ".2"
	ssTrapsOID         = applianceOID + ".2"
	lunaSysObjectID    = ".1.3.6.1.4.1.8072.3.2.10" // NET-SNMP-TC linux: the appliance runs net-snmp
	ucdMemory          = ".1.3.6.1.4.1.2021.4"
	ucdSystemStats     = ".1.3.6.1.4.1.2021.11"
	lmSensors          = ".1.3.6.1.4.1.2021.13.16"
	chrysalisModule    = "CHRYSALIS-UTSP-MIB"
	safenetHSMModule   = "SAFENET-HSM-MIB"
	safenetApplModule  = "SAFENET-APPLIANCE-MIB"
	ucdModule          = "UCD-SNMP-MIB"
	lmSensorsModule    = "LM-SENSORS-MIB"
	ssLogReferenceName = "ssLogReference"
)

func obj(module, oid, name string, s Syntax, k Kind, standIn bool) Object {
	return Object{Name: name, OID: oid, Syntax: s, Module: module, Kind: k, StandIn: standIn}
}

var lunaTable = newTable(
	mib2Objects,
	[]Object{
		obj("SNMPv2-MIB", ".1.3.6.1.2.1.1.7", "sysServices", Integer, Scalar, false),
		// sent by the appliance's agent (net-snmp) when it starts
		obj("SNMPv2-MIB", ".1.3.6.1.6.3.1.1.5.1", "coldStart", SyntaxNone, Notification, false),
		obj(chrysalisModule, chrysalisHSM+".1", "hsmOperationRequests", Counter64, Scalar, false),
		obj(chrysalisModule, chrysalisHSM+".2", "hsmOperationErrors", Counter64, Scalar, false),
		obj(chrysalisModule, chrysalisHSM+".3", "hsmCriticalEvents", Counter64, Scalar, false),
		obj(chrysalisModule, chrysalisHSM+".4", "hsmNonCriticalEvents", Counter64, Scalar, false),
		obj(chrysalisModule, chrysalisNTLS+".1", "ntlsOperStatus", Integer, Scalar, false),
		obj(chrysalisModule, chrysalisNTLS+".2", "ntlsConnectedClients", Gauge32, Scalar, false),
		obj(chrysalisModule, chrysalisNTLS+".3", "ntlsLinks", Gauge32, Scalar, false),
		obj(chrysalisModule, chrysalisNTLS+".4", "ntlsSuccessfulClientConnections", Counter64, Scalar, false),
		obj(chrysalisModule, chrysalisNTLS+".5", "ntlsFailedClientConnections", Counter64, Scalar, false),

		obj(safenetHSMModule, hsmEntryOID+".1", "hsmSerialNumber", DisplayString, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".2", "hsmFirmwareVersion", DisplayString, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".3", "hsmLabel", DisplayString, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".4", "hsmModel", DisplayString, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".5", "hsmAuthenticationMethod", Integer, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".6", "hsmRpvInitialized", Integer, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".7", "hsmFipsMode", TruthValue, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".8", "hsmPerformance", Integer, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".9", "hsmStorageTotalBytes", Gauge32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".10", "hsmStorageAllocatedBytes", Gauge32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".11", "hsmStorageAvailableBytes", Gauge32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".12", "hsmMaximumPartitions", Gauge32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".13", "hsmPartitionsCreated", Gauge32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".14", "hsmPartitionsFree", Gauge32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".15", "hsmBackupProtocol", Integer, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".16", "hsmAdminLoginAttempts", Counter32, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".17", "hsmAuditRoleInitialized", Integer, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".18", "hsmManuallyZeroized", TruthValue, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".19", "hsmUpTime", Counter64, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".20", "hsmBusyTime", Counter64, Column, false),
		obj(safenetHSMModule, hsmEntryOID+".21", "hsmCommandCount", Counter64, Column, false),

		obj(safenetHSMModule, hsmPartitionEntry+".1", "hsmPartitionSerialNumber", DisplayString, Column, true),
		obj(safenetHSMModule, hsmPartitionEntry+".2", "hsmPartitionLabel", DisplayString, Column, true),
		obj(safenetHSMModule, hsmPartitionEntry+".3", "hsmPartitionActivated", TruthValue, Column, true),
		obj(safenetHSMModule, hsmPartitionEntry+".4", "hsmPartitionStorageTotalBytes", Gauge32, Column, true),
		obj(safenetHSMModule, hsmPartitionEntry+".5", "hsmPartitionStorageAllocatedBytes", Gauge32, Column, true),
		obj(safenetHSMModule, hsmPartitionEntry+".6", "hsmPartitionStorageAvailableBytes", Gauge32, Column, true),
		obj(safenetHSMModule, hsmPartitionEntry+".7", "hsmPartitionObjectCount", Gauge32, Column, true),

		obj(safenetApplModule, applianceOID+".1.1", "appSoftwareVersion", DisplayString, Scalar, true),
		obj(safenetApplModule, ssTrapsOID+".1", ssLogReferenceName, DisplayString, NotifyOnly, false),
		obj(safenetApplModule, ssTrapsOID+".2", "fanAttentionNotify", SyntaxNone, Notification, false),
		obj(safenetApplModule, ssTrapsOID+".3", "powerSupplyAttentionNotify", SyntaxNone, Notification, true),
		obj(safenetApplModule, ssTrapsOID+".4", "motherboardAttentionNotify", SyntaxNone, Notification, true),
		obj(safenetApplModule, ssTrapsOID+".5", "diskDriveAttentionNotify", SyntaxNone, Notification, false),
		obj(safenetApplModule, ssTrapsOID+".6", "ntlsAttentionNotify", SyntaxNone, Notification, false),
		obj(safenetApplModule, ssTrapsOID+".7", "cryptoAttentionNotify", SyntaxNone, Notification, true),

		obj(ucdModule, ucdMemory+".1", "memIndex", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".2", "memErrorName", DisplayString, Scalar, false),
		obj(ucdModule, ucdMemory+".3", "memTotalSwap", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".4", "memAvailSwap", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".5", "memTotalReal", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".6", "memAvailReal", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".11", "memTotalFree", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".12", "memMinimumSwap", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".13", "memShared", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".14", "memBuffer", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".15", "memCached", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".100", "memSwapError", Integer, Scalar, false),
		obj(ucdModule, ucdMemory+".101", "memSwapErrorMsg", DisplayString, Scalar, false),

		obj(ucdModule, ucdSystemStats+".1", "ssIndex", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".2", "ssErrorName", DisplayString, Scalar, false),
		obj(ucdModule, ucdSystemStats+".3", "ssSwapIn", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".4", "ssSwapOut", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".5", "ssIOSent", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".6", "ssIOReceive", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".7", "ssSysInterrupts", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".8", "ssSysContext", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".9", "ssCpuUser", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".10", "ssCpuSystem", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".11", "ssCpuIdle", Integer, Scalar, false),
		obj(ucdModule, ucdSystemStats+".50", "ssCpuRawUser", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".51", "ssCpuRawNice", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".52", "ssCpuRawSystem", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".53", "ssCpuRawIdle", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".54", "ssCpuRawWait", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".55", "ssCpuRawKernel", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".56", "ssCpuRawInterrupt", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".57", "ssIORawSent", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".58", "ssIORawReceived", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".59", "ssRawInterrupts", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".60", "ssRawContexts", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".61", "ssCpuRawSoftIRQ", Counter32, Scalar, false),
		obj(ucdModule, ucdSystemStats+".67", "ssCpuNumCpus", Integer, Scalar, false),

		obj(lmSensorsModule, lmSensors+".2.1.1", "lmTempSensorsIndex", Integer, Column, false),
		obj(lmSensorsModule, lmSensors+".2.1.2", "lmTempSensorsDevice", DisplayString, Column, false),
		obj(lmSensorsModule, lmSensors+".2.1.3", "lmTempSensorsValue", Gauge32, Column, false),
		obj(lmSensorsModule, lmSensors+".3.1.1", "lmFanSensorsIndex", Integer, Column, false),
		obj(lmSensorsModule, lmSensors+".3.1.2", "lmFanSensorsDevice", DisplayString, Column, false),
		obj(lmSensorsModule, lmSensors+".3.1.3", "lmFanSensorsValue", Gauge32, Column, false),
		obj(lmSensorsModule, lmSensors+".4.1.1", "lmVoltSensorsIndex", Integer, Column, false),
		obj(lmSensorsModule, lmSensors+".4.1.2", "lmVoltSensorsDevice", DisplayString, Column, false),
		obj(lmSensorsModule, lmSensors+".4.1.3", "lmVoltSensorsValue", Gauge32, Column, false),
	},
)

// LunaObjects returns the Luna model's OID table.
func LunaObjects() []Object { return lunaTable.Objects() }
