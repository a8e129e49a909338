package store

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// readAheadMin is the smallest value worth a system call: texts and tallies
// sit in a page or two.
const readAheadMin = 64 << 10

// readAhead asks the kernel to read a value's pages from the disk now, in
// large requests. bbolt maps its file for random access (MADV_RANDOM), so a
// photo not in the page cache would otherwise come in one 4 KB fault after
// another, each a round trip to the disk: 6 MB/s on a virtio disk. v must be
// a value from a read transaction (in the mapped file); the advice is only
// a hint, so a failure is ignored.
func readAhead(v []byte) {
	if len(v) < readAheadMin {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(v))
	off := int(uintptr(p) & uintptr(os.Getpagesize()-1))
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, -off)), len(v)+off), unix.MADV_WILLNEED)
}
