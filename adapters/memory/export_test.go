package memory

// Corrupt replaces the stored bytes of request id with a damaged record,
// as a bad disk or a bad hand would.
func Corrupt(s *Store, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[id].data = []byte("{")
}
