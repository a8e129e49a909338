//go:build !linux

package ingest

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
