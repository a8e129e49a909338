package store

import (
	"bytes"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestPrintCopyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	photo := []byte("\xff\xd8 a photo")
	s := sum(photo)
	if got, err := db.PrintCopy(s); got != nil || err != nil {
		t.Fatalf("PrintCopy before any = %q, %v; want nil", got, err)
	}
	if err := db.PutPrintCopy(s, []byte("small")); err != nil {
		t.Fatal(err)
	}
	got, err := db.PrintCopy(s)
	if err != nil || !bytes.Equal(got, []byte("small")) {
		t.Fatalf("PrintCopy = %q, %v; want small", got, err)
	}
	got[0] = 'X' // a copy: the caller may change it
	if again, _ := db.PrintCopy(s); string(again) != "small" {
		t.Errorf("PrintCopy after the caller changed its slice = %q", again)
	}
}

// TestPrintCopiesOptional: a file written before the bucket opens read-only
// with no copies, and gets the bucket when opened for writing.
func TestPrintCopiesOptional(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	path := filepath.Join(dir, FileName)
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketPrints) }); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	ro, err := OpenFile(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a file without print copies: %v", err)
	}
	if got, err := ro.PrintCopy(sum([]byte("x"))); got != nil || err != nil {
		t.Errorf("PrintCopy = %q, %v; want nothing", got, err)
	}
	ro.Close()
	rw := open(t, dir)
	if err := rw.PutPrintCopy(sum([]byte("x")), []byte("copy")); err != nil {
		t.Errorf("PutPrintCopy after a writable open: %v", err)
	}
}

// TestSidewaysThumbsDropped: thumbnails cached before they were made upright
// are made again.
func TestSidewaysThumbsDropped(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := sum([]byte("p"))
	if err := db.PutThumb(s, []byte("sideways")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyUpright) }); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Thumb(s); got != nil {
		t.Errorf("thumbnail from before = %q; want it dropped", got)
	}
	if err := db.PutThumb(s, []byte("upright")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, dir)
	if got, _ := db.Thumb(s); string(got) != "upright" {
		t.Errorf("thumbnail made since = %q; want it kept", got)
	}

}
