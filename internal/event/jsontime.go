package event

import "time"

// The range of Unix seconds (after the zone's offset) whose years have four digits,
// 0001-01-01T00:00:00 to 9999-12-31T23:59:59: appendTime writes these itself.
const (
	minFourDigitYear = -62135596800
	maxFourDigitYear = 253402300799
)

// appendTime writes t as time.RFC3339Nano does, byte for byte. The standard formatter
// spends a quarter of an event's encoding on padding and trimming digits one at a time;
// this one writes them in pairs from a table. Years outside 1 to 9999 are left to it.
func appendTime(dst []byte, t time.Time) []byte {
	_, offset := t.Zone()
	secs := t.Unix()
	if secs < minFourDigitYear-int64(offset) || secs > maxFourDigitYear-int64(offset) {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	secs += int64(offset)
	days, clock := secs/86400, secs%86400
	if clock < 0 {
		days, clock = days-1, clock+86400
	}
	year, month, day := civil(days)
	dst = append2(dst, year/100)
	dst = append2(dst, year%100)
	dst = append(dst, '-')
	dst = append2(dst, month)
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, int(clock/3600))
	dst = append(dst, ':')
	dst = append2(dst, int(clock/60%60))
	dst = append(dst, ':')
	dst = append2(dst, int(clock%60))
	dst = appendFraction(dst, t.Nanosecond())
	return appendOffset(dst, offset)
}

// civil converts days since 1970-01-01 to a date of the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil, inverted: eras of 400 years from 0000-03-01).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097                                  // day of the era, 0 to 146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of the era, 0 to 399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from March 1st
	mp := (5*doy + 2) / 153                                // month from March, 0 to 11
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}

// appendFraction writes ".nnnnnnnnn" without its trailing zeros, nothing for zero.
func appendFraction(dst []byte, ns int) []byte {
	if ns == 0 {
		return dst
	}
	var b [10]byte
	b[0] = '.'
	for i := 9; i > 0; i-- {
		b[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := 10
	for b[n-1] == '0' {
		n--
	}
	return append(dst, b[:n]...)
}

// appendOffset writes the zone as RFC3339 does: Z for UTC, else ±hh:mm of the offset's
// whole minutes (truncated toward zero, as the standard formatter does).
func appendOffset(dst []byte, offset int) []byte {
	if offset == 0 {
		return append(dst, 'Z')
	}
	zone := offset / 60
	if zone < 0 {
		dst = append(dst, '-')
		zone = -zone
	} else {
		dst = append(dst, '+')
	}
	dst = append2(dst, zone/60)
	dst = append(dst, ':')
	return append2(dst, zone%60)
}

const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// append2 writes n, 0 to 99, as two digits.
func append2(dst []byte, n int) []byte {
	return append(dst, pairs[2*n], pairs[2*n+1])
}
