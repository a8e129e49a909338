package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// ErrDamaged is what every DamagedError is (errors.Is): the file is not a
// database bbolt can map safely, and nothing was read from or written to it.
var ErrDamaged = errors.New("damaged database file")

// DamagedError says why a file was refused before bbolt mapped it. bbolt
// trusts the file's header: a copy cut short makes it read past the end of
// the mapping, and the process dies of SIGBUS with a goroutine dump; a
// zero-byte file it takes for a new database. Reason is for the people who
// must act on it, so it is in Chinese.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s 不是完好的数据库文件：%s", e.Path, e.Reason)
}

// Is makes errors.Is(err, ErrDamaged) true for every DamagedError.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

func damaged(path, format string, args ...any) error {
	return &DamagedError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// bbolt's on-disk header, as internal/common lays it out (in the machine's
// byte order): a 16-byte page header, then the meta.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16
	metaChecksummed  = 56 // the meta's bytes before its checksum
	metaSize         = metaChecksummed + 8
	noFreelist       = ^uint64(0)
	minPageSize      = 1024
	maxPageSize      = 1 << 24 // as far as bbolt itself looks for the second meta
	minPages         = 4       // two metas, the free list and the root, as bbolt's init writes them
	metaPageFlag     = 0x04
	pageFlagsOffset  = 8
	metaFieldsOffset = pageHeaderSize
)

// meta is the part of a bbolt meta page the preflight needs.
type meta struct {
	magic, version, pageSize uint32
	root, freelist, pgid     uint64
	txid                     uint64
	valid                    bool // magic, version and checksum all right
}

func readMeta(page []byte) meta {
	if len(page) < pageHeaderSize+metaSize {
		return meta{}
	}
	b := page[metaFieldsOffset:]
	le := binary.NativeEndian
	m := meta{
		magic: le.Uint32(b[0:]), version: le.Uint32(b[4:]), pageSize: le.Uint32(b[8:]),
		root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:]),
	}
	h := fnv.New64a()
	h.Write(b[:metaChecksummed])
	m.valid = m.magic == boltMagic && m.version == boltVersion && le.Uint64(b[metaChecksummed:]) == h.Sum64() &&
		le.Uint16(page[pageFlagsOffset:])&metaPageFlag != 0
	return m
}

// Preflight checks a database file's size and header before bbolt maps it:
// at least one meta page with bbolt's magic, version and a right checksum, a
// size that is whole pages and at least bbolt's four first pages, and no
// shorter than the high-water mark that the meta bbolt will use records (a
// copy cut short fails here). A zero-byte file is refused: bbolt would
// write a new database over it, and Open never leaves one (see createNew).
// The error is a *DamagedError, or the error opening the file.
func Preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	size := st.Size()
	if st.IsDir() {
		return damaged(path, "这是一个文件夹，不是数据库文件")
	}
	if size == 0 {
		return damaged(path, "文件是空的（0 字节），里面没有任何数据（复制失败、磁盘写满或断电都会留下空文件）")
	}
	if size < minPages*minPageSize {
		return damaged(path, "文件只有 %d 字节，连数据库开头的几页都不完整（复制到一半、磁盘写满时被截断）", size)
	}
	read := func(off int64) []byte {
		buf := make([]byte, pageHeaderSize+metaSize)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil
		}
		return buf
	}
	// The first meta says the page size; if it is damaged, the second is
	// looked for at each page size bbolt could have used, as bbolt does.
	m0 := readMeta(read(0))
	pageSize := int64(0)
	if m0.valid && validPageSize(m0.pageSize) {
		pageSize = int64(m0.pageSize)
	}
	var m1 meta
	if pageSize > 0 {
		m1 = readMeta(read(pageSize))
	} else {
		for ps := int64(minPageSize); ps <= maxPageSize && 2*ps <= size; ps *= 2 {
			if m := readMeta(read(ps)); m.valid && int64(m.pageSize) == ps {
				m1, pageSize = m, ps
				break
			}
		}
	}
	if pageSize == 0 {
		if m0.magic != boltMagic {
			return damaged(path, "开头没有数据库的标记，不是 reportbot 的数据库文件（可能是别的文件改了名，或被别的内容覆盖）")
		}
		return damaged(path, "记录数据库结构的两页（元数据页）都损坏了，无法安全打开")
	}
	use := metaInUse(m0, m1, pageSize)
	if size < minPages*pageSize {
		return damaged(path, "文件只有 %d 字节，不到数据库最少的 %d 页（每页 %d 字节）：文件不完整", size, minPages, pageSize)
	}
	if use.pgid < minPages || use.root >= use.pgid || (use.freelist >= use.pgid && use.freelist != noFreelist) {
		return damaged(path, "元数据页记录的数据位置自相矛盾，无法安全打开")
	}
	if end := int64(use.pgid) * pageSize; end/pageSize != int64(use.pgid) || size < end {
		return damaged(path, "文件只有 %d 字节，而它记录的数据写到了第 %d 字节：文件后面一段缺了（复制到一半、磁盘写满时被截断）", size, end)
	}
	if size%pageSize != 0 {
		return damaged(path, "文件大小 %d 字节不是整页（每页 %d 字节），文件不完整", size, pageSize)
	}
	return nil
}

// metaInUse is the meta bbolt will use of the file's two: the valid one with
// the higher transaction id (the second only at the page size found).
func metaInUse(m0, m1 meta, pageSize int64) meta {
	if m1.valid && int64(m1.pageSize) == pageSize && (!m0.valid || m1.txid > m0.txid) {
		return m1
	}
	return m0
}

func validPageSize(ps uint32) bool {
	return ps >= minPageSize && ps <= maxPageSize && ps&(ps-1) == 0
}
