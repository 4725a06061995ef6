package cancellation

// SetMaintenanceBatch makes s's maintenance list n requests per List call,
// so that tests reach a second batch with a few requests.
func SetMaintenanceBatch(s *Service, n int) { s.batch = n }
