package classify

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// assertExpr is "true", "false" or "FIELD OP OPERAND", where OPERAND is a field name, a
// number or a quoted string. It decides whether an event asserts (true) or clears (false).
type assertExpr struct {
	constant *bool
	left, op string
	right    string
	rightNum float64
	rightIs  operandKind
}

type operandKind uint8

const (
	operandField operandKind = iota
	operandNumber
	operandString
)

func parseAssert(s string) (*assertExpr, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "true", "false":
		b := s == "true"
		return &assertExpr{constant: &b}, nil
	}
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		i := strings.Index(s, op)
		if i < 0 {
			continue
		}
		a := &assertExpr{left: strings.TrimSpace(s[:i]), op: op}
		right := strings.TrimSpace(s[i+len(op):])
		if a.left == "" || right == "" {
			break
		}
		switch {
		case len(right) >= 2 && right[0] == '"' && right[len(right)-1] == '"':
			a.right, a.rightIs = right[1:len(right)-1], operandString
		default:
			if n, err := strconv.ParseFloat(right, 64); err == nil {
				a.rightNum, a.rightIs = n, operandNumber
			} else {
				a.right, a.rightIs = right, operandField
			}
		}
		return a, nil
	}
	return nil, fmt.Errorf("%q is not true, false or FIELD OP VALUE (OP one of < <= > >= == !=)", s)
}

// eval returns the assert value for ev; ok is false when a field it needs is missing.
func (a *assertExpr) eval(ev *event.Event) (value, ok bool) {
	if a.constant != nil {
		return *a.constant, true
	}
	l, found := ev.Fields.Get(a.left)
	if !found {
		return false, false
	}
	switch a.rightIs {
	case operandNumber:
		ln, isNum := number(l)
		if !isNum {
			return false, false
		}
		return compare(ln, a.op, a.rightNum), true
	case operandString:
		return compare(l.String(), a.op, a.right), true
	}
	r, found := ev.Fields.Get(a.right)
	if !found {
		return false, false
	}
	ln, lok := number(l)
	rn, rok := number(r)
	if lok && rok {
		return compare(ln, a.op, rn), true
	}
	return compare(l.String(), a.op, r.String()), true
}

func number(f event.Field) (float64, bool) {
	switch f.Kind {
	case event.KindInt:
		return float64(f.Int), true
	case event.KindFloat:
		return f.Float, true
	case event.KindString:
		n, err := strconv.ParseFloat(f.Str, 64)
		return n, err == nil
	}
	return 0, false
}

// compare applies op to two numbers or two strings.
func compare[T cmp.Ordered](l T, op string, r T) bool {
	switch op {
	case "<":
		return l < r
	case "<=":
		return l <= r
	case ">":
		return l > r
	case ">=":
		return l >= r
	case "==":
		return l == r
	}
	return l != r
}
