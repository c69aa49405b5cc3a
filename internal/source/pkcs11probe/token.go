package pkcs11probe

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Ulong is a CK_ULONG figure a token reports (memory, sessions, PIN lengths). The value
// CK_UNAVAILABLE_INFORMATION (all bits set in a CK_ULONG, whatever its width) is mapped to
// Unavailable. For the session maxima, 0 is CK_EFFECTIVELY_INFINITE (see Limit).
type Ulong uint64

// Unavailable stands for CK_UNAVAILABLE_INFORMATION: the token does not report this figure.
const Unavailable Ulong = math.MaxUint64

// Known reports whether the token gave this figure.
func (u Ulong) Known() bool { return u != Unavailable }

// String writes the number, or "unavailable".
func (u Ulong) String() string {
	if !u.Known() {
		return "unavailable"
	}
	return strconv.FormatUint(uint64(u), 10)
}

// MarshalJSON writes the number, or null when unavailable.
func (u Ulong) MarshalJSON() ([]byte, error) {
	if !u.Known() {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatUint(uint64(u), 10)), nil
}

// UnmarshalJSON reads what MarshalJSON writes: a number, or null for Unavailable.
func (u *Ulong) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*u = Unavailable
		return nil
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("pkcs11probe: figure %s: %w", b, err)
	}
	*u = Ulong(v)
	return nil
}

// Limit describes a maximum session count: 0 is CK_EFFECTIVELY_INFINITE (no limit).
func Limit(u Ulong) string {
	switch {
	case !u.Known():
		return "unavailable"
	case u == 0:
		return "unlimited"
	}
	return u.String()
}

// fromULong maps a CK_ULONG as miekg/pkcs11 returns it (a Go uint of the C width).
func fromULong(v uint) Ulong {
	if v == ^uint(0) {
		return Unavailable
	}
	return Ulong(v)
}

// Flags are a token's CKF_ flags (CK_TOKEN_INFO.flags).
type Flags uint64

// The token flags of PKCS#11 v2.40, section 3.2 (CK_TOKEN_INFO).
const (
	FlagRNG                     Flags = 0x00000001
	FlagWriteProtected          Flags = 0x00000002
	FlagLoginRequired           Flags = 0x00000004
	FlagUserPINInitialized      Flags = 0x00000008
	FlagRestoreKeyNotNeeded     Flags = 0x00000020
	FlagClockOnToken            Flags = 0x00000040
	FlagProtectedAuthPath       Flags = 0x00000100
	FlagDualCryptoOperations    Flags = 0x00000200
	FlagTokenInitialized        Flags = 0x00000400
	FlagSecondaryAuthentication Flags = 0x00000800
	FlagUserPINCountLow         Flags = 0x00010000
	FlagUserPINFinalTry         Flags = 0x00020000
	FlagUserPINLocked           Flags = 0x00040000
	FlagUserPINToBeChanged      Flags = 0x00080000
	FlagSOPINCountLow           Flags = 0x00100000
	FlagSOPINFinalTry           Flags = 0x00200000
	FlagSOPINLocked             Flags = 0x00400000
	FlagSOPINToBeChanged        Flags = 0x00800000
	FlagErrorState              Flags = 0x01000000
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagRNG, "CKF_RNG"}, {FlagWriteProtected, "CKF_WRITE_PROTECTED"}, {FlagLoginRequired, "CKF_LOGIN_REQUIRED"},
	{FlagUserPINInitialized, "CKF_USER_PIN_INITIALIZED"}, {FlagRestoreKeyNotNeeded, "CKF_RESTORE_KEY_NOT_NEEDED"},
	{FlagClockOnToken, "CKF_CLOCK_ON_TOKEN"}, {FlagProtectedAuthPath, "CKF_PROTECTED_AUTHENTICATION_PATH"},
	{FlagDualCryptoOperations, "CKF_DUAL_CRYPTO_OPERATIONS"}, {FlagTokenInitialized, "CKF_TOKEN_INITIALIZED"},
	{FlagSecondaryAuthentication, "CKF_SECONDARY_AUTHENTICATION"}, {FlagUserPINCountLow, "CKF_USER_PIN_COUNT_LOW"},
	{FlagUserPINFinalTry, "CKF_USER_PIN_FINAL_TRY"}, {FlagUserPINLocked, "CKF_USER_PIN_LOCKED"},
	{FlagUserPINToBeChanged, "CKF_USER_PIN_TO_BE_CHANGED"}, {FlagSOPINCountLow, "CKF_SO_PIN_COUNT_LOW"},
	{FlagSOPINFinalTry, "CKF_SO_PIN_FINAL_TRY"}, {FlagSOPINLocked, "CKF_SO_PIN_LOCKED"},
	{FlagSOPINToBeChanged, "CKF_SO_PIN_TO_BE_CHANGED"}, {FlagErrorState, "CKF_ERROR_STATE"},
}

// Has reports whether all the flags in f are set.
func (fl Flags) Has(f Flags) bool { return fl&f == f }

// Names lists the flags set, by their CKF_ names; unknown bits as one hexadecimal value.
func (fl Flags) Names() []string {
	var out []string
	rest := fl
	for _, n := range flagNames {
		if fl.Has(n.f) {
			out = append(out, n.name)
			rest &^= n.f
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%X", uint64(rest)))
	}
	return out
}

// String writes the value in hexadecimal and the names: "0x40D (CKF_RNG|...)".
func (fl Flags) String() string {
	return fmt.Sprintf("0x%X (%s)", uint64(fl), strings.Join(fl.Names(), "|"))
}

// MarshalJSON writes the names, so that events and the API read without a flag table.
func (fl Flags) MarshalJSON() ([]byte, error) {
	n := fl.Names()
	if n == nil {
		n = []string{}
	}
	return json.Marshal(n)
}

// UnmarshalJSON reads what MarshalJSON writes: the names, and unknown bits in hexadecimal.
func (fl *Flags) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("pkcs11probe: flags: %w", err)
	}
	var out Flags
next:
	for _, n := range names {
		for _, f := range flagNames {
			if f.name == n {
				out |= f.f
				continue next
			}
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(n, "0x"), 16, 64)
		if err != nil || !strings.HasPrefix(n, "0x") {
			return fmt.Errorf("pkcs11probe: unknown flag %q", n)
		}
		out |= Flags(v)
	}
	*fl = out
	return nil
}

// Token is what C_GetTokenInfo reports for the token in one slot, with the figures mapped:
// Unavailable for CK_UNAVAILABLE_INFORMATION, text fields without their blank padding.
type Token struct {
	Slot            uint   `json:"slot"`
	SlotDescription string `json:"slot_description,omitempty"`
	Label           string `json:"label"`
	Manufacturer    string `json:"manufacturer"`
	Model           string `json:"model"`
	Serial          string `json:"serial"`
	Flags           Flags  `json:"flags"`
	HardwareVersion string `json:"hardware_version"`
	FirmwareVersion string `json:"firmware_version"`

	Sessions      Ulong `json:"sessions"`
	MaxSessions   Ulong `json:"max_sessions"` // 0: CK_EFFECTIVELY_INFINITE
	RWSessions    Ulong `json:"rw_sessions"`
	MaxRWSessions Ulong `json:"max_rw_sessions"` // 0: CK_EFFECTIVELY_INFINITE
	MinPINLen     Ulong `json:"min_pin_len"`
	MaxPINLen     Ulong `json:"max_pin_len"`

	TotalPublicMemory  Ulong `json:"total_public_memory"`
	FreePublicMemory   Ulong `json:"free_public_memory"`
	TotalPrivateMemory Ulong `json:"total_private_memory"`
	FreePrivateMemory  Ulong `json:"free_private_memory"`

	// UTCTime is the token's clock as it reports it ("YYYYMMDDhhmmss00"), when it has one
	// (CKF_CLOCK_ON_TOKEN); Clock is that time parsed, zero when absent or unreadable.
	UTCTime string    `json:"utc_time,omitempty"`
	Clock   time.Time `json:"clock,omitzero"`
	// ReadAt is the host's time right after the token was read, to compare Clock with.
	ReadAt time.Time `json:"read_at"`
}

// Initialized reports CKF_TOKEN_INITIALIZED.
func (t Token) Initialized() bool { return t.Flags.Has(FlagTokenInitialized) }

// HasClock reports CKF_CLOCK_ON_TOKEN.
func (t Token) HasClock() bool { return t.Flags.Has(FlagClockOnToken) }

// ClockOffset is the token's clock minus the host's, and false when the token has no clock
// or its time cannot be read. The token's clock has a resolution of one second.
func (t Token) ClockOffset() (time.Duration, bool) {
	if !t.HasClock() || t.Clock.IsZero() || t.ReadAt.IsZero() {
		return 0, false
	}
	return t.Clock.Sub(t.ReadAt.Truncate(time.Second)), true
}

// parseUTCTime reads CK_TOKEN_INFO.utcTime: 16 characters, YYYYMMDDhhmmss and two
// characters reserved ('0' in the standard; some tokens leave blanks or NULs).
func parseUTCTime(s string) (time.Time, error) {
	s = strings.TrimRight(s, " \x00")
	if len(s) < 14 {
		return time.Time{}, fmt.Errorf("token clock %q: want YYYYMMDDhhmmss", s)
	}
	tm, err := time.ParseInLocation("20060102150405", s[:14], time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("token clock %q: %w", s, err)
	}
	return tm, nil
}

// Memory is one kind of token memory, as a check sees it.
type Memory struct {
	Kind        string // "private" or "public"
	Total, Free Ulong
}

// Private and Public return the token's memory figures.
func (t Token) Private() Memory {
	return Memory{Kind: "private", Total: t.TotalPrivateMemory, Free: t.FreePrivateMemory}
}

// Public returns the token's public memory figures.
func (t Token) Public() Memory {
	return Memory{Kind: "public", Total: t.TotalPublicMemory, Free: t.FreePublicMemory}
}

// PINProblem is a token flag that predicts or reports a lockout, or a PIN that must change.
type PINProblem struct {
	Flag     Flags
	Key      string // "locked", "final_try", "count_low", "to_be_changed"
	Who      string // "user" or "SO"
	Text     string // "PIN count low", "PIN final try", "PIN locked", "PIN to be changed"
	Critical bool   // locked, or the next wrong PIN locks it; otherwise a warning
	Advice   string // what to do
}

// PINProblems lists the lockout flags set, most serious first.
func (t Token) PINProblems() []PINProblem {
	var out []PINProblem
	for _, p := range []PINProblem{
		{FlagSOPINLocked, "locked", "SO", "PIN locked", true, "the SO cannot log in; re-initialise the token or follow the vendor's SO PIN recovery"},
		{FlagUserPINLocked, "locked", "user", "PIN locked", true, "applications cannot log in; the SO must reset the user PIN (C_InitPIN)"},
		{FlagSOPINFinalTry, "final_try", "SO", "PIN final try", true, "one more wrong SO PIN locks it; stop the process that is trying"},
		{FlagUserPINFinalTry, "final_try", "user", "PIN final try", true, "one more wrong user PIN locks it; stop the application using a wrong PIN"},
		{FlagSOPINCountLow, "count_low", "SO", "PIN count low", false, "a wrong SO PIN was given since the last good login"},
		{FlagUserPINCountLow, "count_low", "user", "PIN count low", false, "a wrong user PIN was given since the last good login; look for a misconfigured client"},
		{FlagSOPINToBeChanged, "to_be_changed", "SO", "PIN to be changed", false, "the SO PIN is the initial one or expired; change it"},
		{FlagUserPINToBeChanged, "to_be_changed", "user", "PIN to be changed", false, "the user PIN is the initial one or expired; change it"},
	} {
		if t.Flags.Has(p.Flag) {
			out = append(out, p)
		}
	}
	return out
}
