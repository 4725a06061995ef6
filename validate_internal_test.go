package cancellation

import "testing"

// TestIDProblem_ShortcutAgreesWithTheChecks: for every id of up to three
// characters drawn from printable ASCII's edges, white space, control
// characters and non-ASCII runes, idProblem (with its one-pass shortcut)
// accepts exactly the ids its checks accept, and says the same of them.
func TestIDProblem_ShortcutAgreesWithTheChecks(t *testing.T) {
	t.Parallel()
	alphabet := []string{" ", "!", "a", "~", "\t", "\n", "\x00", "\x1f", "\x7f", "\x80", "\xff", "é", "\u0085", "\u00a0", "\u2028"}
	var ids []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		ids = append(ids, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			grow(prefix+c, n-1)
		}
	}
	grow("", 3)
	long := make([]byte, MaxIDLength+1)
	for i := range long {
		long[i] = 'a'
	}
	ids = append(ids, string(long), string(long[:MaxIDLength]))
	accepted := 0
	for _, id := range ids {
		got, want := idProblem(id), idChecks(id)
		if got != want {
			t.Fatalf("idProblem(%q) = %q, the checks say %q", id, got, want)
		}
		if got == "" {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(ids) {
		t.Fatalf("%d of %d ids accepted: the alphabet tells nothing", accepted, len(ids))
	}
}

// TestNewCode_DigitsAreUniform: a code has exactly the digits asked for,
// leading zeros kept, and each digit of each place comes up about as
// often as any other.
func TestNewCode_DigitsAreUniform(t *testing.T) {
	t.Parallel()
	for length := 6; length <= 10; length++ {
		const draws = 20000
		var counts [10][10]int // place (first ten) × digit
		for range draws {
			code := newCode(length)
			if len(code) != length {
				t.Fatalf("code %q: %d digits, want %d", code, len(code), length)
			}
			for place, c := range []byte(code) {
				if c < '0' || c > '9' {
					t.Fatalf("code %q holds %q", code, c)
				}
				counts[place][c-'0']++
			}
		}
		for place := range length {
			for digit, n := range counts[place] {
				// Expected 2000, standard deviation about 42: ±300 is
				// over seven of them.
				if n < draws/10-300 || n > draws/10+300 {
					t.Fatalf("length %d: digit %d came up %d times in place %d of %d draws", length, digit, n, place, draws)
				}
			}
		}
	}
}
