package classify

import (
	"github.com/hsmwatch/hsmwatch/internal/event"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// routineLines are generic Linux lines a syslog server receives all day, with the
// severities their daemons give them: none may rise above info.
var routineLines = []string{
	"<86>Nov 22 05:31:30 web01 sshd[20412]: Accepted publickey for deploy from 10.1.2.3 port 51234 ssh2: ED25519 SHA256:abcdef",
	"<86>Nov 22 05:31:30 web01 sshd[20412]: Disconnected from user deploy 10.1.2.3 port 51234",
	"<86>Nov 22 05:31:30 web01 sshd[20412]: Received disconnect from 10.1.2.3 port 51234:11: disconnected by user",
	"<86>Nov 22 05:31:30 web01 sshd[20412]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
	"<86>Nov 22 05:31:30 web01 sshd(pam_unix)[20412]: session closed for user deploy",
	"<83>Nov 22 05:31:30 web01 sshd[20412]: error: kex_exchange_identification: Connection closed by remote host",
	"<83>Nov 22 05:31:30 web01 sshd[20412]: error: kex_exchange_identification: read: Connection reset by peer",
	"<86>Nov 22 05:31:30 web01 sshd[20412]: Connection closed by 198.51.100.7 port 40022 [preauth]",
	"<78>Nov 22 05:31:32 web01 CRON[20500]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
	"<86>Nov 22 05:31:32 web01 CRON[20500]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
	"<78>Nov 22 05:31:32 web01 cron[600]: (CRON) INFO (Running @reboot jobs)",
	"<30>Nov 22 05:31:31 web01 systemd[1]: Started Session 4242 of User deploy.",
	"<30>Nov 22 05:31:31 web01 systemd[1]: Stopped User Manager for UID 1000.",
	"<30>Nov 22 05:31:31 web01 systemd[1]: Starting Daily apt download activities...",
	"<30>Nov 22 05:31:31 web01 systemd[1]: Finished Daily apt download activities.",
	"<30>Nov 22 05:31:31 web01 systemd[1]: Reached target Timers.",
	"<30>Nov 22 05:31:31 web01 systemd-logind[611]: New session 4242 of user deploy.",
	"<30>Nov 22 05:31:31 web01 chronyd[600]: Selected source 192.0.2.1 (2.pool.ntp.org)",
	"<28>Nov 22 05:31:31 web01 chronyd[600]: System clock wrong by 1.432114 seconds, adjustment started",
	"<28>Nov 22 05:31:31 web01 chronyd[600]: System clock was stepped by 1.432114 seconds",
	"<30>Nov 22 05:31:31 web01 ntpd[700]: synchronized to 192.0.2.1, stratum 2",
	"<29>Nov 22 05:31:31 web01 ntpd[700]: kernel reports TIME_ERROR: 0x41: Clock Unsynchronized",
	"<30>Nov 22 05:31:31 web01 ntpd[700]: Listen normally on 2 lo 127.0.0.1:123",
	"<30>Nov 22 05:31:31 web01 systemd-timesyncd[500]: Initial synchronization to time server 192.0.2.1:123 (ntp.ubuntu.com).",
	// routine kernel lines (dmesg, dmesg -T, syslog): the hardware rules must not take them
	"[    2.345678] ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)",
	"Mar  1 12:00:00 db01 kernel: ata1.00: configured for UDMA/133",
	"[    1.912345] ahci 0000:00:17.0: AHCI 0001.0301 32 slots 6 ports 6 Gbps 0x3f impl SATA mode",
	"[    3.123456] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
	"[Tue Mar  1 12:00:00 2024] EXT4-fs (nvme0n1p2): re-mounted. Opts: errors=remount-ro",
	"[    1.234567] nvme nvme0: 8/0/0 default/read/poll queues",
	"<6>Mar  1 12:00:00 db01 kernel: nvme nvme0: pci function 0000:01:00.0",
	"Mar  1 12:00:00 db01 kernel: e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
	"[    5.000000] IPv6: ADDRCONF(NETDEV_CHANGE): eno1: link becomes ready",
	"[    0.512345] EDAC MC: Ver: 3.0.0",
	"[    4.100000] EDAC MC0: Giving out device to module sb_edac controller Haswell SrcID#0_Ha#0: DEV 0000:7f:12.0 (INTERRUPT)",
	"[    0.100000] mce: CPU0: Thermal monitoring enabled (TM1)",
	"[    2.000000] sd 0:0:0:0: [sda] Attached SCSI disk",
	"[    2.000001] sd 0:0:0:0: [sda] 1953525168 512-byte logical blocks: (1.00 TB/932 GiB)",
	"[    2.500000] md/raid1:md0: active with 2 out of 2 mirrors",
	"[    3.000000] XFS (sdb1): Mounting V5 Filesystem",
	"[    3.100000] XFS (sdb1): Ending clean mount",
	"2024 Mar 1 12:00:00 myLuna kern info kernel: ata2: SATA link down (SStatus 0 SControl 300)",
	// routine lines with tempting words (error, self-test, tamper, OK states). smartd's
	// lines are copied from a public mailing-list thread and a blog post quoting smartd
	// (smartmontools' smartd.cpp prints them); the kernel's crypto self-test line from an
	// LKML boot log (crypto/testmgr.c); fsck's summary is e2fsprogs' "%s: clean, %u/%u
	// files, %llu/%llu blocks"; slapd's RESULT line is OpenLDAP's stats log format; the
	// rsyslog start line is rsyslog's own.
	// (smartd's "previous self-test completed without error" and "Self-Test Log error count
	// decreased" are left out: the Luna guide's smartd rules grade them warning, as the
	// appliance's own disk reports them.)
	"Nov 22 01:05:51 morfikownia smartd[3463]: Device: /dev/sda [SAT], Self-Test Log does no longer report errors, warning condition reset after 1 email",
	"Mar 15 02:20:25 mill smartd[1595]: Device: /dev/sda, starting scheduled Short Self-Test.",
	"[    5.501835] alg: self-tests for CTR-KDF (hmac(sha256)) passed",
	"Mar  1 12:00:00 db01 systemd-fsck[400]: /dev/sda1: clean, 11/65536 files, 12955/262144 blocks",
	"Mar  1 12:00:00 ldap01 slapd[900]: conn=1000 op=1 RESULT tag=97 err=0 text=",
	"Mar  1 12:00:00 web01 rsyslogd: [origin software=\"rsyslogd\" swVersion=\"8.2102.0\" x-pid=\"600\" x-info=\"https://www.rsyslog.com\"] start",
	// the routine states of the HSM packs (nshield.yaml, utimaco.yaml, luna-legacy.yaml) and
	// the safety net's routine tamper states (safety-net.yaml), as their reports read
	"Nov 22 05:31:30 hsm01 enquiry[77]:  mode                 operational",
	"Nov 22 05:31:30 hsm01 enquiry[77]:  hardware status      OK",
	"Nov 22 05:31:30 cs01 csadm[77]: alarm     = OFF",
	"Nov 22 05:31:30 cs01 csadm[77]: mode      = Operational Mode",
	"Nov 22 05:31:30 client01 lunacm[77]:         HSM Status -> OK",
	"Nov 22 05:31:30 hsmhost someapp[1]: Tamper detection enabled",
	"Nov 22 05:31:30 hsmhost someapp[1]: tamper status: OK",
	// the kernel's missing optional firmware (drivers/base/firmware_loader: "Direct firmware
	// load for %s failed with error %d") and snmpd's duplicate-address complaint
	// (linux-routine.yaml)
	"[    8.100000] bluetooth hci0: Direct firmware load for brcm/BCM20702A1-0a5c-21e8.hcd failed with error -2",
	"May 25 00:40:33 mail01 snmpd[3616]: error on subcontainer 'ia_addr' insert (-1)",
	// sshd's keep-alive timeout and supervisord's start-up CRIT (linux-routine.yaml)
	"Mar  1 12:00:00 web01 sshd[1234]: Timeout, client not responding from user root 198.51.100.9 port 50022",
	"2024-03-01 12:00:00,123 CRIT Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.",
	// routine SEL rows (ipmitool's texts, include/ipmitool/ipmi_sel.h)
	"   2 | 02/18/2025 | 10:00:05 | Power Supply PS1 | Presence detected | Asserted",
	"   3 | 02/18/2025 | 10:00:09 | System Event #0x83 | OEM System boot event | Asserted",
	"   4 | 02/18/2025 | 10:00:11 | Drive Slot / Bay HDD0 | Drive Present | Asserted",
	"   5 | 02/18/2025 | 10:01:00 | Fan Redundancy #0xb1 | Fully Redundant | Asserted",
	// level words where they are no level: keys, counts, values of other keys
	"Nov 22 05:31:30 web01 backup[700]: error=0 warnings=0 files=1234",
	"Nov 22 05:31:30 web01 backup[700]: run finished, 0 errors, no errors found",
	"Nov 22 05:31:30 web01 app[700]: ts=2024-03-01T12:00:00Z level=info msg=\"error budget fine\"",
	"Nov 22 05:31:30 web01 app[700]: I0612 12:34:56.789012    1234 server.go:42] Error budget fine",
	"Nov 22 05:31:30 web01 app[700]: [INFO] errors=0",
}

// TestRoutineLinesStayQuiet: routine generic Linux lines, the benchmark's noise included,
// never rise above info, whatever words ("error") or severities they carry.
func TestRoutineLinesStayQuiet(t *testing.T) {
	c := shippedCatalog(t)
	for _, line := range append(routineLines, testutil.NoiseLines()...) {
		ev := parsed(t, line)
		c.Classify(ev)
		if event.LevelRank(ev.Level) > event.LevelRank("info") {
			t.Errorf("%s: level %s (rule %s)", line, ev.Level, ev.Rule)
		}
	}
}

// TestUnknownIsSafe: the lines of issue 13 are flagged.
func TestUnknownIsSafe(t *testing.T) {
	c := shippedCatalog(t)
	for _, tc := range []struct{ line, minLevel string }{
		{"2012 Feb 29 12:05:01 myLuna local6 err oamp[2100]: ERR: Tamper event detected", "critical"},
		{"2012 Feb 29 12:05:01 myLuna local6 err oamp[2100]: ERR: all keys lost", "critical"},
		{"2012 Feb 29 12:05:01 myLuna daemon crit foo[1]: something", "critical"},
		{"Nov 22 05:31:33 web01 kernel: [1234567.123456] blk_update_request: I/O error, dev sda, sector 1234567 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0", "major"},
		{"Nov 22 05:31:33 web01 kernel: [1234567.123456] ata1.00: failed command: READ FPDMA QUEUED", "major"},
		{"<14>Nov 22 05:31:30 app01 java[4242]: sun.security.pkcs11.wrapper.PKCS11Exception: CKR_DEVICE_ERROR", "major"},
		{"<14>Nov 22 05:31:30 app01 signer[77]: C_Login returned rv=0x000000A4", "major"},
		{"<14>Nov 22 05:31:30 app01 signer[77]: C_Login returned rv=0xa0", "warning"},
		// issue 13's second round: general mechanisms on lines no rule names
		{"[   12.951212] alg: self-tests for sha256 using sha256-dthev2 failed (rc=62)", "major"},
		{"<14>Nov 22 05:31:30 app01 java[4242]: Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", "major"},
		{"<14>Nov 22 05:31:30 app01 signer[77]: 2024-03-01 12:00:00,123 ERROR [SignerWorker] signing failed", "major"},
		{"<14>Nov 22 05:31:30 app01 kubelet[77]: E0612 12:34:56.789012 1234 kubelet.go:1] HSM plugin not responding", "major"},
		{"<14>Nov 22 05:31:30 app01 agent[77]: time=2024-03-01T12:00:00Z level=error msg=\"poll failed\"", "major"},
		{"<14>Nov 22 05:31:30 app01 agent[77]: HSM 2 failed to answer the health check", "major"},
		{"<14>Nov 22 05:31:30 hsm01 monitor[77]: Module #2: hardware status 2-3-1 Temperature out of range", "major"},
		{"<14>Nov 22 05:31:30 app01 signserver[77]: CryptoTokenOfflineException: Crypto token is offline: 1", "major"},
		{"<14>Nov 22 05:31:30 app01 named[77]: zone example.com/IN: dst_lib_init: PKCS#11 initialization failed", "major"},
		// Luna audit records of the HSM's own events: the safety nets read them too
		{"91,12/03/02 09:20:01,S/N 150822 session 1 Access 2147483651:2346 SO -- operation LUNA_ZEROIZE returned RC_OK(0x00000000)", "critical"},
		{"92,12/03/02 09:21:07,S/N 150822 session 1 Access 2147483651:2346 SO -- operation LUNA_FIRMWARE_UPDATE returned RC_GENERAL_ERROR(0x00000005)", "major"},
	} {
		ev := parsed(t, tc.line)
		c.Classify(ev)
		if event.LevelRank(ev.Level) < event.LevelRank(tc.minLevel) {
			t.Errorf("%s: level %q (rule %s), want at least %s", tc.line, ev.Level, ev.Rule, tc.minLevel)
		}
	}
	// a hex number without a PKCS#11 context is no return value
	for _, line := range []string{
		"<14>Nov 22 05:31:30 app01 foo[1]: register value 0x30 written",
		"<14>Nov 22 05:31:30 app01 foo[1]: offset 0x000000a0 ok",
		"2012 Feb 22 03:15:13 LunaSA5 local6 crit oamp[2318]: CRIT: Fatal error 0x00300203",
	} {
		ev := parsed(t, line)
		c.Classify(ev)
		if ev.Component == "pkcs11-client" {
			t.Errorf("%s: taken for a PKCS#11 error (rule %s)", line, ev.Rule)
		}
	}
}

// TestPackWordsNeedTheirContext: the packs' report rules read a state, not a mention.
func TestPackWordsNeedTheirContext(t *testing.T) {
	c := shippedCatalog(t)
	for _, line := range []string{
		"<14>Nov 22 05:31:30 hsm01 monitor[77]: checking hardware status every 60 s",
		"<14>Nov 22 05:31:30 hsm01 monitor[77]: alarm thresholds loaded",
		"<14>Nov 22 05:31:30 hsm01 monitor[77]: mode switch requested by admin",
		"<14>Nov 22 05:31:30 hsm01 monitor[77]: HSM Status -> OK",
	} {
		ev := parsed(t, line)
		c.Classify(ev)
		if event.LevelRank(ev.Level) > event.LevelRank("info") {
			t.Errorf("%s: level %s (rule %s)", line, ev.Level, ev.Rule)
		}
	}
	// a failure that names no HSM part is the floor's trouble word, not a pack's report
	line := "<14>Nov 22 05:31:30 hsm01 monitor[77]: loading the dummy module failed, using the default"
	ev := parsed(t, line)
	if c.Classify(ev); ev.Rule != "floor.trouble" || ev.Level != "warning" {
		t.Errorf("%s: rule %s level %s, want floor.trouble warning", line, ev.Rule, ev.Level)
	}
}
