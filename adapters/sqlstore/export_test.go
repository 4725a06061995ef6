package sqlstore

// Bind writes the ? placeholders of query as dialect d wants them, for the
// tests' own SQL.
func Bind(d Dialect, query string) string { return queries{dialect: d}.bind(query) }
