// Package pkcs11probe reads the health of the tokens behind a PKCS#11 library: which slots
// hold a token, their labels and serials, flags (PIN lockout, error state), sessions in use,
// memory (public and private, total and free) and clock. It loads the vendor's library
// (libCryptoki2.so, libsofthsm2.so, ...) at run time with github.com/miekg/pkcs11 and asks
// only for token information: no session, no PIN.
//
// Open and the Module methods are the steps, for a check that reports each one (-v); Probe
// runs them all under a context, for the daemon. A PKCS#11 call runs in C and cannot be
// interrupted: when a library hangs (a network HSM that does not answer, say), Probe returns
// when its context ends but the goroutine making the call stays blocked, with its OS thread,
// until the library returns, if ever; then it finalizes and unloads the library itself.
// Prober keeps a stuck library from piling up more blocked goroutines.
//
// hsmwatch itself never loads a library in its own process: Spawner runs these steps in a
// child process (child.go), so that a library that crashes, aborts or hangs costs only
// the child, which a timeout kills.
package pkcs11probe

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	p11 "github.com/miekg/pkcs11"
)

// LoadError says the library could not be loaded.
type LoadError struct {
	Path   string
	Reason string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("cannot load the PKCS#11 library %s: %s", e.Path, e.Reason)
}

// CallError is a PKCS#11 function that returned something other than CKR_OK.
type CallError struct {
	Func string // C_Initialize, C_GetTokenInfo, ...
	Slot *uint  // the slot, for calls about one
	RV   uint   // the CK_RV
}

func (e *CallError) Error() string {
	if e.Slot != nil {
		return fmt.Sprintf("%s (slot %d) returned %s", e.Func, *e.Slot, RVString(e.RV))
	}
	return fmt.Sprintf("%s returned %s", e.Func, RVString(e.RV))
}

// Name returns the CKR_ name of the return value ("CKR_DEVICE_ERROR"), or "" for a
// vendor-defined or unknown value.
func (e *CallError) Name() string { return RVName(e.RV) }

// Return values the checks explain.
const (
	RVSlotIDInvalid   uint = p11.CKR_SLOT_ID_INVALID   // CKR_SLOT_ID_INVALID
	RVTokenNotPresent uint = p11.CKR_TOKEN_NOT_PRESENT // CKR_TOKEN_NOT_PRESENT
)

// IsRV reports whether err is a CallError with this return value.
func IsRV(err error, rv uint) bool {
	var ce *CallError
	return errors.As(err, &ce) && ce.RV == rv
}

// RVName returns the CKR_ name of a return value, "" when it has none (vendor defined).
func RVName(rv uint) string {
	s := p11.Error(rv).Error() // "pkcs11: 0x30: CKR_DEVICE_ERROR"
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s[i+2:], "CKR_") {
		return s[i+2:]
	}
	return ""
}

// RVString writes a return value as "CKR_DEVICE_ERROR (0x30)", or "0x80000001 (vendor
// defined)" / "0x... (unknown)".
func RVString(rv uint) string {
	if n := RVName(rv); n != "" {
		return fmt.Sprintf("%s (0x%X)", n, rv)
	}
	if rv >= p11.CKR_VENDOR_DEFINED {
		return fmt.Sprintf("0x%X (vendor defined)", rv)
	}
	return fmt.Sprintf("0x%X (unknown)", rv)
}

func callErr(fn string, slot *uint, err error) error {
	if err == nil {
		return nil
	}
	var e p11.Error
	if errors.As(err, &e) {
		return &CallError{Func: fn, Slot: slot, RV: uint(e)}
	}
	return fmt.Errorf("%s: %w", fn, err)
}

// Info is what C_GetInfo reports about the library.
type Info struct {
	CryptokiVersion string `json:"cryptoki_version"` // "2.40"
	Manufacturer    string `json:"manufacturer"`
	Description     string `json:"description"`
	LibraryVersion  string `json:"library_version"`
}

// Module is a loaded PKCS#11 library. It is not safe for concurrent use.
type Module struct {
	path        string
	ctx         *p11.Ctx
	initialized bool // we called C_Initialize and it succeeded: we must call C_Finalize
	// Before, when not nil, is called before each PKCS#11 call with its name and slot
	// ("C_GetTokenInfo (slot 1)"), so that a watchdog can say where a library hung.
	Before func(call string)
}

// Open loads the library and fetches its function list (dlopen, C_GetFunctionList). Close
// unloads it.
func Open(path string) (*Module, error) {
	if path == "" {
		return nil, &LoadError{Path: path, Reason: "no library given"}
	}
	if fi, err := os.Stat(path); err != nil {
		reason := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			reason = "no such file"
		} else if errors.Is(err, os.ErrPermission) {
			reason = "permission denied"
		}
		return nil, &LoadError{Path: path, Reason: reason}
	} else if fi.IsDir() {
		return nil, &LoadError{Path: path, Reason: "it is a folder"}
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, &LoadError{Path: path, Reason: explainLoadFailure(path)}
	}
	return &Module{path: path, ctx: ctx}, nil
}

// Version returns the Cryptoki version of the library's function list (C_GetFunctionList),
// known before C_Initialize; "" when it cannot be read.
func (m *Module) Version() string {
	if m == nil || m.ctx == nil {
		return ""
	}
	return functionListVersion(m.path)
}

// Path returns the library's path.
func (m *Module) Path() string { return m.path }

func (m *Module) before(format string, args ...any) {
	if m.Before != nil {
		m.Before(fmt.Sprintf(format, args...))
	}
}

// Initialize calls C_Initialize (with CKF_OS_LOCKING_OK). A library that another part of
// the process initialised already (CKR_CRYPTOKI_ALREADY_INITIALIZED) is used as it is and
// not finalized by Close.
func (m *Module) Initialize() error {
	m.before("C_Initialize")
	err := m.ctx.Initialize()
	if err != nil {
		var e p11.Error
		if errors.As(err, &e) && uint(e) == p11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			return nil
		}
		return callErr("C_Initialize", nil, err)
	}
	m.initialized = true
	return nil
}

// Info calls C_GetInfo.
func (m *Module) Info() (Info, error) {
	m.before("C_GetInfo")
	i, err := m.ctx.GetInfo()
	if err != nil {
		return Info{}, callErr("C_GetInfo", nil, err)
	}
	return Info{
		CryptokiVersion: fmt.Sprintf("%d.%d", i.CryptokiVersion.Major, i.CryptokiVersion.Minor),
		Manufacturer:    trim(i.ManufacturerID),
		Description:     trim(i.LibraryDescription),
		LibraryVersion:  fmt.Sprintf("%d.%d", i.LibraryVersion.Major, i.LibraryVersion.Minor),
	}, nil
}

// SlotsWithToken calls C_GetSlotList(CK_TRUE): the slots that hold a token now.
func (m *Module) SlotsWithToken() ([]uint, error) {
	m.before("C_GetSlotList")
	s, err := m.ctx.GetSlotList(true)
	return s, callErr("C_GetSlotList", nil, err)
}

// Token calls C_GetSlotInfo and C_GetTokenInfo for one slot. A library that does not
// support C_GetSlotInfo still gives its token.
func (m *Module) Token(slot uint) (Token, error) {
	m.before("C_GetSlotInfo (slot %d)", slot)
	si, serr := m.ctx.GetSlotInfo(slot)
	m.before("C_GetTokenInfo (slot %d)", slot)
	ti, err := m.ctx.GetTokenInfo(slot)
	readAt := time.Now()
	if err != nil {
		return Token{}, callErr("C_GetTokenInfo", &slot, err)
	}
	t := Token{
		Slot:               slot,
		Label:              trim(ti.Label),
		Manufacturer:       trim(ti.ManufacturerID),
		Model:              trim(ti.Model),
		Serial:             trim(ti.SerialNumber),
		Flags:              Flags(ti.Flags),
		HardwareVersion:    fmt.Sprintf("%d.%d", ti.HardwareVersion.Major, ti.HardwareVersion.Minor),
		FirmwareVersion:    fmt.Sprintf("%d.%d", ti.FirmwareVersion.Major, ti.FirmwareVersion.Minor),
		Sessions:           fromULong(ti.SessionCount),
		MaxSessions:        fromULong(ti.MaxSessionCount),
		RWSessions:         fromULong(ti.RwSessionCount),
		MaxRWSessions:      fromULong(ti.MaxRwSessionCount),
		MinPINLen:          fromULong(ti.MinPinLen),
		MaxPINLen:          fromULong(ti.MaxPinLen),
		TotalPublicMemory:  fromULong(ti.TotalPublicMemory),
		FreePublicMemory:   fromULong(ti.FreePublicMemory),
		TotalPrivateMemory: fromULong(ti.TotalPrivateMemory),
		FreePrivateMemory:  fromULong(ti.FreePrivateMemory),
		ReadAt:             readAt,
	}
	if serr == nil {
		t.SlotDescription = trim(si.SlotDescription)
	}
	if t.HasClock() {
		t.UTCTime = strings.TrimRight(ti.UTCTime, " \x00")
		if c, err := parseUTCTime(ti.UTCTime); err == nil {
			t.Clock = c
		}
	}
	return t, nil
}

// Close calls C_Finalize when Initialize succeeded, then unloads the library. It returns
// the C_Finalize error, if any; the library is unloaded in any case.
func (m *Module) Close() error {
	if m == nil || m.ctx == nil {
		return nil
	}
	var err error
	if m.initialized {
		m.before("C_Finalize")
		err = callErr("C_Finalize", nil, m.ctx.Finalize())
		m.initialized = false
	}
	m.before("dlclose")
	m.ctx.Destroy()
	m.ctx = nil
	return err
}

// trim drops the blank padding of a PKCS#11 text field, and the NULs some libraries use.
func trim(s string) string { return strings.TrimRight(s, " \x00") }
