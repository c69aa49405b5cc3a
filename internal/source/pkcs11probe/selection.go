package pkcs11probe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/check"
)

// Selection says which tokens a check looks at: the token with a label, the token in a
// slot (with Label too, it must bear that label), or every initialised token.
type Selection struct {
	Label   string
	Slot    uint
	HasSlot bool
	All     bool
}

// Session is a loaded library and the tokens a Selection found in it.
type Session struct {
	Module *Module
	Tokens []Token
	// Failed holds, for All, the slots whose token could not be read: they are reported
	// beside the tokens rather than failing the whole check.
	Failed map[uint]error
	tr     *check.Trace
	onStep func(string)
}

// Select loads and initialises lib and finds the tokens of sel, writing p11memmon's step
// lines to tr at -v and every PKCS#11 call at -vvv (a nil tr writes nothing). The error
// says what is wrong and what to check, with the command line's letters (-p, -l, -s). The
// session is returned even with an error: close it in every case.
func Select(ctx context.Context, tr *check.Trace, lib string, sel Selection) (*Session, error) {
	return selectTokens(ctx, tr, lib, sel, nil)
}

// selectTokens is Select; onStep, when not nil, is also told each PKCS#11 call before it
// is made (the probe child sends it to its parent).
func selectTokens(ctx context.Context, tr *check.Trace, lib string, sel Selection, onStep func(string)) (*Session, error) {
	s := &Session{tr: tr, onStep: onStep}
	if err := s.open(lib); err != nil {
		return s, err
	}
	if err := ctx.Err(); err != nil {
		return s, fmt.Errorf("%w", err)
	}
	slots, err := s.slots(lib, sel)
	if err != nil {
		return s, err
	}
	if sel.HasSlot {
		return s, s.bySlot(sel, slots)
	}
	all, err := s.readAll(ctx, slots)
	if err != nil {
		return s, err
	}
	if sel.All {
		return s, s.initialised(all)
	}
	return s, s.byLabel(sel.Label, all, len(slots))
}

// open loads and initialises the library; the trace follows every call so that a
// timeout can name the call the library did not return from.
func (s *Session) open(lib string) error {
	tr := s.tr
	tr.Step("dlopen")
	mod, err := Open(lib)
	if err != nil {
		return fmt.Errorf("%w; check the path given with -p and that the library suits this system (ldd %s)", err, lib)
	}
	s.Module = mod
	mod.Before = func(call string) {
		if s.onStep != nil {
			s.onStep(call)
		}
		tr.Step("%s", call)
		tr.Printf(check.Debug, "calling %s", call)
	}
	if v := mod.Version(); v != "" {
		tr.Printf(check.Verbose, "Successfully loaded PKCS #11 library %s with Cryptoki version %s", lib, v)
	} else {
		tr.Printf(check.Verbose, "Successfully loaded PKCS #11 library %s", lib)
	}
	if err := mod.Initialize(); err != nil {
		return fmt.Errorf("%w; check the library's configuration (Luna: Chrystoki.conf and the client certificate; SoftHSM: SOFTHSM2_CONF and its token folder) and that this user may read it", err)
	}
	tr.Printf(check.Verbose, "Successfully initialized the PKCS #11 library %s", lib)
	s.traceInfo()
	return nil
}

// traceInfo writes what the library says about itself at -vv; C_GetInfo is only called
// then, as a library that fails it can still be checked.
func (s *Session) traceInfo() {
	if !s.tr.Enabled(check.Config) {
		return
	}
	info, err := s.Module.Info()
	if err != nil {
		s.tr.Printf(check.Config, "C_GetInfo: %v", err)
		return
	}
	s.tr.Printf(check.Config, "Library: %s, %s, version %s, Cryptoki %s", info.Manufacturer, info.Description, info.LibraryVersion, info.CryptokiVersion)
}

// slots lists the slots with a token; none is an error, as no selection can match.
func (s *Session) slots(lib string, sel Selection) ([]uint, error) {
	slots, err := s.Module.SlotsWithToken()
	if err != nil {
		return nil, fmt.Errorf("%w; the library cannot list its slots", err)
	}
	switch {
	case sel.All:
		s.tr.Printf(check.Verbose, "Found %d slots with a token, checking every initialised token", len(slots))
	case sel.Label != "":
		s.tr.Printf(check.Verbose, "Found %d slots with a token, looking for token %s", len(slots), sel.Label)
	default:
		s.tr.Printf(check.Verbose, "Found %d slots with a token, looking at slot %d", len(slots), sel.Slot)
	}
	if len(slots) == 0 {
		return nil, fmt.Errorf("the library %s reports no slot with a token present; check that the HSM is reachable and that this client has a partition or token assigned (Luna: lunacm slot list; SoftHSM: softhsm2-util --show-slots)", lib)
	}
	return slots, nil
}

// bySlot reads the token of sel.Slot and checks its label when one is given.
func (s *Session) bySlot(sel Selection, slots []uint) error {
	t, err := s.Module.Token(sel.Slot)
	switch {
	case IsRV(err, RVSlotIDInvalid):
		return fmt.Errorf("there is no slot %d (slots with a token: %s); check -s", sel.Slot, slotList(slots))
	case IsRV(err, RVTokenNotPresent):
		return fmt.Errorf("no token is present in slot %d (slots with a token: %s); check -s", sel.Slot, slotList(slots))
	case err != nil:
		return fmt.Errorf("%w", err)
	}
	if sel.Label != "" && t.Label != sel.Label {
		return fmt.Errorf("the token in slot %d is labelled %q, not %q; check -l and -s", sel.Slot, t.Label, sel.Label)
	}
	s.tr.Printf(check.Verbose, "Found the token with label %s in slot %d", t.Label, t.Slot)
	s.Tokens = []Token{t}
	return nil
}

// readAll reads the token of every slot; the slots whose token cannot be read go to
// s.Failed.
func (s *Session) readAll(ctx context.Context, slots []uint) ([]Token, error) {
	var all []Token
	s.Failed = map[uint]error{}
	for _, slot := range slots {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w", err)
		}
		t, err := s.Module.Token(slot)
		if err != nil {
			s.tr.Printf(check.Config, "Slot %d: %v", slot, err)
			s.Failed[slot] = err
			continue
		}
		all = append(all, t)
	}
	return all, nil
}

// initialised keeps the initialised tokens (--all); an uninitialised token is no problem
// of its own, but a library with none at all is.
func (s *Session) initialised(all []Token) error {
	for _, t := range all {
		if t.Initialized() {
			s.Tokens = append(s.Tokens, t)
		} else {
			s.tr.Printf(check.Config, "Slot %d: the token is not initialised, skipped", t.Slot)
		}
	}
	if len(s.Tokens) == 0 && len(s.Failed) == 0 {
		return fmt.Errorf("none of the %d tokens present is initialised; initialise one, or check -p", len(all))
	}
	return nil
}

// byLabel finds the one token labelled label; none or several is an error naming what
// there is. The failed slots only count for --all, so they are dropped here.
func (s *Session) byLabel(label string, all []Token, present int) error {
	failed := s.Failed
	s.Failed = nil
	var match []Token
	for _, t := range all {
		if t.Label == label {
			match = append(match, t)
		}
	}
	switch len(match) {
	case 0:
		return noLabel(label, all, present, failed)
	case 1:
		s.tr.Printf(check.Verbose, "Found the token with label %s in slot %d", match[0].Label, match[0].Slot)
		s.Tokens = match
		return nil
	}
	var where []string
	for _, t := range match {
		where = append(where, fmt.Sprintf("slot %d serial %s", t.Slot, t.Serial))
	}
	return fmt.Errorf("%d tokens are labelled %q (%s); choose one with -s SLOT", len(match), label, strings.Join(where, ", "))
}

// noLabel says that no token bears label, listing the labels there are.
func noLabel(label string, all []Token, present int, failed map[uint]error) error {
	var labels []string
	for _, t := range all {
		if t.Initialized() {
			labels = append(labels, strconv.Quote(t.Label))
		}
	}
	msg := fmt.Sprintf("no token labelled %q among the %d present", label, present)
	if len(labels) > 0 {
		msg += " (labels: " + strings.Join(labels, ", ") + ")"
	}
	if len(failed) > 0 {
		msg += fmt.Sprintf("; %d could not be read (%v)", len(failed), failedList(failed))
	}
	return errors.New(msg + "; check -l (labels are case-sensitive)")
}

// Close finalizes and unloads the library, and says so at -v.
func (s *Session) Close() {
	if s == nil || s.Module == nil {
		return
	}
	if err := s.Module.Close(); err != nil {
		s.tr.Printf(check.Verbose, "%v", err)
	}
	s.tr.Printf(check.Verbose, "Unloaded PKCS #11 library")
}

func slotList(slots []uint) string {
	var s []string
	for _, n := range slots {
		s = append(s, strconv.FormatUint(uint64(n), 10))
	}
	return strings.Join(s, ", ")
}

func failedList(m map[uint]error) string {
	var out []string
	for _, slot := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[slot].Error())
	}
	return strings.Join(out, "; ")
}
