package store

// Space is how full the filesystem holding the data directory is.
type Space struct {
	// Free is what a non-root process can still write, in bytes; Used is
	// what is taken, the root's reserve not counted in either (as df does).
	Free, Used uint64
}

// UsedPercent is how full the filesystem is, 0–100, as df's Use% column
// says it; 0 for a filesystem that reports no size.
func (s Space) UsedPercent() float64 {
	if s.Free+s.Used == 0 {
		return 0
	}
	return 100 * float64(s.Used) / float64(s.Free+s.Used)
}
