package wechat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// fileStorage keeps openwechat's login session (cookies, keys) in one file that
// only the bot's user can read, written whole and atomically, so that a crash
// mid-write never leaves half a session. openwechat's own file storage creates
// the file world-readable and cannot be read twice.
type fileStorage struct {
	path string
	r    *bytes.Reader
}

// Read implements io.Reader over the file's contents at the first read.
func (f *fileStorage) Read(p []byte) (int, error) {
	if f.r == nil {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return 0, fmt.Errorf("read session %s: %w", f.path, err)
		}
		f.r = bytes.NewReader(data)
	}
	return f.r.Read(p)
}

// Write replaces the file with p: openwechat writes the whole session in one call.
func (f *fileStorage) Write(p []byte) (int, error) {
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(dir, ".session-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, err
	}
	if _, err := tmp.Write(p); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return 0, fmt.Errorf("write session %s: %w", f.path, err)
	}
	return len(p), nil
}
