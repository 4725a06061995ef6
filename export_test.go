package cancellation

// SetMaintenanceBatch makes s's maintenance list n requests per List call,
// so that tests reach a second batch with a few requests.
func SetMaintenanceBatch(s *Service, n int) { s.batch = n }

// ForgetSlowRules forgets that the named rules were slow last time, as if
// they had answered at once: RuleSet.Evaluate remembers it for the whole
// process, by name, and tests that look at where rules run start from
// rules that were not.
func ForgetSlowRules(names ...string) {
	for _, name := range names {
		if m, ok := ruleMemos.Load(name); ok {
			m.(*ruleMemo).slow.Store(false)
		}
	}
}

// SlowRule reports whether the rule of the name was slow last time.
func SlowRule(name string) bool { return slowRule(name) }
