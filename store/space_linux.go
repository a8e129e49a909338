package store

import (
	"fmt"
	"syscall"
)

// DiskSpace is the space of the filesystem that holds path.
func DiskSpace(path string) (Space, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return Space{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return Space{Free: st.Bavail * bs, Used: (st.Blocks - st.Bfree) * bs}, nil
}
