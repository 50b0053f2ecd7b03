package sqlstore

// SetInsightsExactLimit makes stages with more than n timed applicants take their
// percentiles from the day counts' buckets (-1: always).
func (s *Store) SetInsightsExactLimit(n int) { s.insightsExact = n }
