package store

import (
	"path/filepath"
	"runtime"
	"testing"
)

func TestUsedPercent(t *testing.T) {
	tests := []struct {
		name string
		s    Space
		want float64
	}{
		{"empty", Space{Free: 100}, 0},
		{"nine tenths", Space{Free: 10, Used: 90}, 90},
		{"full", Space{Used: 5}, 100},
		{"no size", Space{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.UsedPercent(); got != tt.want {
				t.Errorf("UsedPercent() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDiskSpaceOfTheDataDirectory reads a real filesystem's figures; the
// disk-full test (package main) sees a tmpfs go to 100 % and back.
func TestDiskSpaceOfTheDataDirectory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("disk space is read on Linux only")
	}
	dir := t.TempDir()
	s, err := DiskSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Free == 0 || s.Used == 0 || s.UsedPercent() <= 0 || s.UsedPercent() > 100 {
		t.Errorf("space %+v (%.1f%%)", s, s.UsedPercent())
	}
	if _, err := DiskSpace(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a directory that does not exist")
	}
}
