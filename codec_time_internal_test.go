package cancellation

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// TestTimesAreEncodedAndDecodedAsTheTimePackageDoes: appendTime writes
// what time.Time's MarshalJSON writes (a UTC time by hand, in any year
// the method writes), or fails where it fails, and
// parseUTC reads what time.Parse reads (the same instant and location),
// or leaves it to the time package; for the zero time, nanoseconds with
// trailing zeros, the ends of years, months and leap days, offsets, years
// out of range, and random times over ten thousand years.
func TestTimesAreEncodedAndDecodedAsTheTimePackageDoes(t *testing.T) {
	t.Parallel()
	check := func(tm time.Time) {
		t.Helper()
		want, werr := tm.MarshalJSON()
		got, gerr := appendTime([]byte("x"), tm)
		if werr != nil {
			if gerr == nil {
				t.Fatalf("appendTime(%v) = %s, but MarshalJSON fails: %v", tm, got, werr)
			}
			return
		}
		if gerr == errFallback && (tm.Location() != time.UTC || tm.Year() < 0 || tm.Year() > 9999) {
			return // left to encoding/json, which writes want
		}
		if gerr != nil || string(got) != "x"+string(want) {
			t.Fatalf("appendTime(%v) = %s (%v), want x%s", tm, got, gerr, want)
		}
		text := want[1 : len(want)-1]
		parsed, perr := time.Parse(time.RFC3339, string(text))
		back, ok := parseUTC(text)
		if tm.Location() == time.UTC && tm.Year() >= 0 && !ok {
			t.Fatalf("parseUTC(%s) left a UTC time to the time package", text)
		}
		if ok && (perr != nil || back != parsed) {
			t.Fatalf("parseUTC(%s) = %v, time.Parse gives %v (%v)", text, back, parsed, perr)
		}
	}
	check(time.Time{})
	check(time.Unix(0, 0).UTC())
	for _, ns := range []int{0, 1, 10, 100_000, 120_000_000, 500_000_000, 999_999_999, 100} {
		for _, y := range []int{0, 1, 4, 99, 100, 400, 1582, 1899, 1900, 1969, 1970, 1999, 2000, 2024, 2100, 2400, 9999, 10000, -1} {
			for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
				for _, hms := range [][3]int{{0, 0, 0}, {23, 59, 59}, {12, 30, 1}} {
					tm := time.Date(y, time.Month(md[0]), md[1], hms[0], hms[1], hms[2], ns, time.UTC)
					check(tm)
					check(tm.In(time.FixedZone("", 5*3600+1800)))
					check(tm.In(time.FixedZone("X", -7*3600)))
					check(tm.In(time.FixedZone("odd", 61)))
				}
			}
		}
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	for range 200_000 {
		sec := rnd.Int64N(10_000*366*86400) - 1970*366*86400
		tm := time.Unix(sec, rnd.Int64N(1e9)*int64(rnd.IntN(2))).UTC()
		check(tm)
	}
	check(time.Now()) // a monotonic reading and the local zone

	// Texts parseUTC must leave to the time package, or read as it does.
	for _, text := range []string{
		"2025-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-01-00T00:00:00Z",
		"2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567891Z",
		"2024-01-01T00:00:00,5Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z", "2024-01-01T00:00:00+00:00", "2024-01-01 00:00:00Z",
		"+024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "2024-01-01T00:00:00.-5Z", "2024-01-01T00:00:00.000000000Z", "0000-01-01T00:00:00Z",
	} {
		want, werr := time.Parse(time.RFC3339, text)
		got, ok := parseUTC([]byte(text))
		if ok && (werr != nil || got != want) {
			t.Fatalf("parseUTC(%s) = %v, time.Parse gives %v (%v)", text, got, want, werr)
		}
	}
	// And through the decoder: a time's text, escapes and all, is the
	// time package's.
	for _, doc := range []string{`{"at":"2024-01-01T00:00:00Z"}`, `{"at":"2024-01-01T00:00:00\u005a"}`, `{"at":"2024-01-01T01:00:00+01:00"}`, `{"at":"2024-02-30T00:00:00Z"}`} {
		decodeBoth[Event](t, []byte(doc))
	}
	if b, _ := appendTime(nil, time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)); !bytes.Equal(b, []byte(`"2024-05-06T07:08:09Z"`)) {
		t.Fatalf("got %s", b)
	}
}
