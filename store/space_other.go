//go:build !linux

package store

import (
	"errors"
	"fmt"
)

// DiskSpace is the space of the filesystem that holds path: only Linux
// (the server and the Docker image) says it; elsewhere the status page and
// the alert at 90 % go without.
func DiskSpace(path string) (Space, error) {
	return Space{}, fmt.Errorf("disk space of %s: %w", path, errors.ErrUnsupported)
}
