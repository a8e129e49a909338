//go:build !unix

package store

import (
	"fmt"
)

// lockFile checks that no reportbot has the database open, by opening it
// with bbolt (where flock is not available); the file must then be sound.
func lockFile(path string) (unlock func(), err error) {
	db, err := OpenFile(path, Options{})
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	db.Close()
	return func() {}, nil
}
