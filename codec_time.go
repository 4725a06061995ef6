package cancellation

import "time"

// A stored request holds a dozen times or more, nearly all in UTC (the
// Service's clock reads are stored as they are, and what the codec
// decodes is UTC). time.Time's MarshalJSON and UnmarshalJSON go through
// the general layout machinery; appendTime and parseUTC write and read
// RFC 3339 with nanoseconds, in UTC, by hand, and leave anything else (an
// offset, a year outside 0000-9999, more than nine fractional digits) to
// the time package. TestTimesAreEncodedAndDecodedAsTheTimePackageDoes
// holds them to the time package's bytes and values.

// appendTime appends t as time.Time's MarshalJSON writes it, or returns
// errFallback where the method fails.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if t.Location() != time.UTC {
		return appendTimeFormat(b, t)
	}
	sec := t.Unix()
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		days--
		rem += 86400
	}
	y, m, d := civilFromDays(days)
	if y < 0 || y > 9999 {
		return nil, errFallback
	}
	hh, mm, ss := rem/3600, rem/60%60, rem%60
	b = append(b, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10), ':', byte('0'+ss/10), byte('0'+ss%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' { // RFC3339Nano drops trailing zeros
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"'), nil
}

// parseUTC parses s, the text of a JSON string, when it is a time in UTC
// as RFC 3339 writes it (YYYY-MM-DDTHH:MM:SS, then one to nine fractional
// digits, then Z): what time.Parse(time.RFC3339, s) gives. ok is false
// for anything else, valid or not, left to the time package.
func parseUTC(s []byte) (t time.Time, ok bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[0:4])
	mo, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	hh, ok4 := num(s[11:13])
	mm, ok5 := num(s[14:16])
	ss, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	ns := 0
	switch frac := s[19 : len(s)-1]; {
	case len(frac) == 0:
	case frac[0] != '.' || len(frac) < 2 || len(frac) > 10:
		return time.Time{}, false
	default:
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		ns = n
	}
	sec := daysFromCivil(int64(y), mo, d)*86400 + int64(hh*3600+mm*60+ss)
	return time.Unix(sec, int64(ns)).UTC(), true
}

// daysIn returns the number of days of month m of year y.
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civilFromDays returns the proleptic Gregorian date days after
// 1970-01-01 (Howard Hinnant's algorithm, "chrono-Compatible Low-Level
// Date Algorithms").
func civilFromDays(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is civilFromDays's inverse.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := int64(m + 9)
	if m > 2 {
		mp = int64(m - 3)
	}
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
