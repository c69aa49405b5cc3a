package parse

import "time"

// dateWithoutYear returns the time for a timestamp that has no year (RFC 3164, older Luna
// files), choosing the year that puts it closest before ref: a December line read in
// January belongs to the past year, and Feb 29 only exists in a leap year.
func dateWithoutYear(month time.Month, day, hour, min, sec, nsec int, ref time.Time, loc *time.Location) time.Time {
	year := ref.Year()
	t := time.Date(year, month, day, hour, min, sec, nsec, loc)
	// Up to a day ahead of ref is clock skew between the HSM and this host, not last year.
	if t.Sub(ref) > 24*time.Hour {
		year--
	} else if ref.Sub(t) > 364*24*time.Hour {
		year++ // a January line read on Dec 31 by a slow clock
	}
	if month == time.February && day == 29 {
		for !isLeap(year) {
			year--
		}
	}
	return time.Date(year, month, day, hour, min, sec, nsec, loc)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// validDate reports whether day exists in month of year (time.Date would normalise
// Feb 30 to Mar 2 silently; a log line saying Feb 30 is damaged, not March).
func validDate(year int, month time.Month, day int) bool {
	if day < 1 || day > 31 || month < 1 || month > 12 {
		return false
	}
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Day() == day
}
