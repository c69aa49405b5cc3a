package agent

import (
	"math"
	"net"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// encodable converts a Tree value to the Go type gosnmp's encoder expects for its
// ASN.1 type (int for Integer, uint32 for the 32-bit unsigned types, uint64 for
// Counter64, 4 bytes for IpAddress), so that a simulator may store an int64 gauge or a
// net.IP without knowing gosnmp's rules. It reports false for a value that cannot be
// sent as its type; the encoder would fail (or, for a bad IpAddress string, panic).
func encodable(v Var) (Var, bool) {
	switch v.Type {
	case gosnmp.Integer:
		n, ok := toInt64(v.Value)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return v, false
		}
		v.Value = int(n)
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Uinteger32:
		n, ok := toUint64(v.Value)
		if !ok || n > math.MaxUint32 {
			return v, false
		}
		v.Value = uint32(n)
	case gosnmp.Counter64:
		n, ok := toUint64(v.Value)
		if !ok {
			return v, false
		}
		v.Value = n
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.BitString:
		switch s := v.Value.(type) {
		case string, []byte:
		case nil:
			v.Value = []byte{}
		case interface{ String() string }:
			v.Value = s.String()
		default:
			return v, false
		}
	case gosnmp.ObjectIdentifier:
		s, ok := v.Value.(string)
		if _, _, valid := parseOID(s); !ok || !valid {
			return v, false
		}
	case gosnmp.IPAddress:
		ip, ok := toIPv4(v.Value)
		if !ok {
			return v, false
		}
		v.Value = ip
	case gosnmp.OpaqueFloat:
		_, ok := v.Value.(float32)
		return v, ok
	case gosnmp.OpaqueDouble:
		_, ok := v.Value.(float64)
		return v, ok
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		v.Value = nil
	default:
		return v, false
	}
	return v, true
}

func toInt64(x any) (int64, bool) {
	switch n := x.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		if uint64(n) > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

func toUint64(x any) (uint64, bool) {
	switch n := x.(type) {
	case uint:
		return uint64(n), true
	case uint8:
		return uint64(n), true
	case uint16:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case uint64:
		return n, true
	}
	if n, ok := toInt64(x); ok && n >= 0 {
		return uint64(n), true
	}
	return 0, false
}

func toIPv4(x any) ([]byte, bool) {
	var ip net.IP
	switch a := x.(type) {
	case string:
		ip = net.ParseIP(a)
	case net.IP:
		ip = a
	case []byte:
		ip = net.IP(a)
	}
	ip4 := ip.To4()
	return []byte(ip4), ip4 != nil
}

// varbindSize is the BER size of a varbind as gosnmp encodes it, for a value that
// encodable returned: GetBulk stops generating when the next variable would not fit,
// so that a request for two billion repetitions costs no more than a full message.
func varbindSize(v Var) int {
	return tlvSize(oidSize(v.Name) + valueSize(v))
}

// tlvSize is the size of a TLV with n bytes of content and a one-byte tag.
func tlvSize(n int) int {
	switch {
	case n < 0x80:
		return n + 2
	case n < 0x100:
		return n + 3
	case n < 0x10000:
		return n + 4
	}
	return n + 5
}

// oidSize is the size of an OID's TLV: the first two arcs share a sub-identifier and
// each takes one byte per 7 bits.
func oidSize(oid string) int {
	var arcs [2]uint64
	n, i := 0, 0
	for part := range strings.SplitSeq(strings.TrimPrefix(oid, "."), ".") {
		var arc uint64
		for j := 0; j < len(part); j++ {
			arc = arc*10 + uint64(part[j]-'0')
		}
		switch {
		case i < 2:
			arcs[i] = arc
			if i == 1 {
				n += base128Len(arcs[0]*40 + arcs[1])
			}
		default:
			n += base128Len(arc)
		}
		i++
	}
	return tlvSize(n)
}

func base128Len(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// valueSize is the size of a value's TLV.
func valueSize(v Var) int {
	switch x := v.Value.(type) {
	case string:
		if v.Type == gosnmp.ObjectIdentifier {
			return oidSize(x)
		}
		return tlvSize(len(x))
	case []byte:
		return tlvSize(len(x))
	case int:
		return tlvSize(intLen(int64(x)))
	case uint32:
		return tlvSize(uintLen(uint64(x)))
	case uint64:
		return tlvSize(uintLen(x))
	case nil:
		return 2
	}
	return 16 // floats in Opaque: at most 15
}

// intLen is the minimal two's-complement length of n.
func intLen(n int64) int {
	l := 1
	for n > 127 || n < -128 {
		n >>= 8
		l++
	}
	return l
}

// uintLen is the length of an unsigned value in BER: its significant bytes, and a
// leading zero when the first has its top bit set.
func uintLen(x uint64) int {
	n := 1
	for v := x; v > 0xFF; v >>= 8 {
		n++
	}
	if x>>(8*(n-1))&0x80 != 0 {
		n++
	}
	return n
}

// parentOID returns oid without its last arc, or "" for a single arc.
func parentOID(oid string) string {
	i := strings.LastIndexByte(oid, '.')
	if i <= 0 {
		return ""
	}
	return oid[:i]
}
