package ingest

import (
	"os"
	"syscall"
)

// fdatasync is the sync bbolt and SQLite do on Linux: the data and the size,
// not the times.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
