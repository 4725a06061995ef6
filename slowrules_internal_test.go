package cancellation

import (
	"fmt"
	"testing"
	"time"
)

// fingerprint is the fingerprint an evaluation gives a finding of the rule
// with the items: through the name's memo, as complete does.
func fingerprint(rule string, items []Item) string {
	return memoOf(rule).fingerprint(rule, items)
}

// slowRule reports whether the rule of the name was slow last time,
// without making a memo for it.
func slowRule(name string) bool {
	m, ok := ruleMemos.Load(name)
	return ok && m.(*ruleMemo).wasSlow()
}

// TestRuleMemosBounded: what is remembered of rules (whether they were
// slow, the fingerprint of a finding without items) is kept by name for
// the whole process; a rule that names itself anew on every evaluation
// (say, with the account in its name) must not grow that memory without
// bound. Past the bound a rule is neither remembered as slow nor hashed
// from memory, and its fingerprint is still right. Not parallel: it fills
// the process-wide memory.
func TestRuleMemosBounded(t *testing.T) {
	names := make([]string, 2*maxRuleMemos)
	for i := range names {
		names[i] = fmt.Sprintf("rule-memos-bounded-%d", i)
	}
	t.Cleanup(func() { // the places go back to the tests after this one
		for _, name := range names {
			if _, ok := ruleMemos.LoadAndDelete(name); ok {
				ruleMemoCount.Add(-1)
			}
		}
	})
	for _, name := range names {
		m := memoOf(name)
		m.mark(m.wasSlow(), time.Millisecond)
		if got, want := fingerprint(name, nil), hashFingerprint(name, nil); got != want {
			t.Fatalf("fingerprint(%q, nil) = %s, want %s", name, got, want)
		}
	}
	n := 0
	ruleMemos.Range(func(any, any) bool { n++; return true })
	if n > maxRuleMemos {
		t.Errorf("%d rule names remembered, want at most %d", n, maxRuleMemos)
	}
	if !slowRule(names[0]) {
		t.Errorf("%s answered slowly and is not remembered as slow", names[0])
	}
	m := memoOf(names[0])
	m.mark(true, 0)
	if slowRule(names[0]) {
		t.Errorf("%s answered fast and is still slow", names[0])
	}
	if memoOf(names[len(names)-1]) != nil || slowRule(names[len(names)-1]) {
		t.Errorf("%s, past the bound, is remembered", names[len(names)-1])
	}
}
