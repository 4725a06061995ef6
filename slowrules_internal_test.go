package cancellation

import (
	"fmt"
	"testing"
	"time"
)

// TestSlowRulesBounded: which rules were slow is remembered by name for
// the whole process, as the fingerprints of empty findings are; a rule
// that names itself anew on every evaluation (say, with the account in
// its name) must not grow that memory without bound. Not parallel: it
// fills the process-wide memory, and empties it after.
func TestSlowRulesBounded(t *testing.T) {
	names := make([]string, 2*maxSlowRules)
	for i := range names {
		names[i] = fmt.Sprintf("slow-rules-bounded-%d", i)
	}
	t.Cleanup(func() {
		for _, name := range names {
			markRule(name, slowRule(name), 0)
		}
	})
	for _, name := range names {
		markRule(name, slowRule(name), time.Millisecond)
	}
	n := 0
	slowRules.Range(func(any, any) bool { n++; return true })
	if n > maxSlowRules {
		t.Errorf("%d rule names remembered as slow, want at most %d", n, maxSlowRules)
	}
	// Forgetting the rules that answered fast frees their places.
	for _, name := range names {
		markRule(name, slowRule(name), 0)
		if slowRule(name) {
			t.Fatalf("%s answered fast and is still slow", name)
		}
	}
	markRule("slow-rules-bounded-again", slowRule("slow-rules-bounded-again"), time.Millisecond)
	defer markRule("slow-rules-bounded-again", slowRule("slow-rules-bounded-again"), 0)
	if !slowRule("slow-rules-bounded-again") {
		t.Error("the places freed by rules that answered fast are not taken again")
	}
}
