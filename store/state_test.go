package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestAdapterState(t *testing.T) {
	// A step puts value under adapter's key, or (get) reads it and expects
	// value; reopen closes the store and opens it again first.
	type step struct {
		adapter, key, value string
		get, reopen         bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"absent key", []step{
			{adapter: "wechat", key: "group", get: true, value: ""},
		}},
		{"put then get", []step{
			{adapter: "wechat", key: "group", value: "conv-1"},
			{adapter: "wechat", key: "group", get: true, value: "conv-1"},
			{adapter: "wechat", key: "group", value: "conv-2"},
			{adapter: "wechat", key: "group", get: true, value: "conv-2"},
			{adapter: "wechat", key: "other", get: true, value: ""},
		}},
		{"adapters apart", []step{
			{adapter: "wechat", key: "group", value: "wx"},
			{adapter: "dingtalk", key: "group", get: true, value: ""},
			{adapter: "dingtalk", key: "group", value: "dd"},
			{adapter: "wechat", key: "group", get: true, value: "wx"},
			{adapter: "dingtalk", key: "group", get: true, value: "dd"},
			// The separator keeps a name that extends another's apart too.
			{adapter: "we", key: "chatgroup", get: true, value: ""},
		}},
		{"survives reopen", []step{
			{adapter: "wechat", key: "group", value: "conv-1"},
			{adapter: "wechat", key: "group", get: true, value: "conv-1", reopen: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			for i, s := range tt.steps {
				if s.reopen {
					if err := db.Close(); err != nil {
						t.Fatal(err)
					}
					if db, err = Open(dir, Options{}); err != nil {
						t.Fatal(err)
					}
				}
				st := db.AdapterState(s.adapter)
				if !s.get {
					if err := st.Put(s.key, s.value); err != nil {
						t.Fatalf("step %d: Put: %v", i, err)
					}
					continue
				}
				got, err := st.Get(s.key)
				if err != nil || got != s.value {
					t.Errorf("step %d: %s Get(%q) = %q, %v; want %q", i, s.adapter, s.key, got, err, s.value)
				}
			}
			if err := db.Check(); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

// A file written before the adapter_state bucket, such as an old backup, is
// still read: opened read-only it has no state, and Restore accepts it.
func TestAdapterStateInAnOlderFile(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	if err := db.AdapterState("wechat").Put("group", "conv-1"); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	f, err := os.Create(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	raw, err := bolt.Open(old, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketAdapterState) }); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	ro, err := OpenFile(old, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open of a file without adapter_state: %v", err)
	}
	if v, err := ro.AdapterState("wechat").Get("group"); v != "" || err != nil {
		t.Errorf("Get = %q, %v; want nothing", v, err)
	}
	ro.Close()
	restored := t.TempDir()
	if _, err := Restore(restored, old, time.Now()); err != nil {
		t.Fatalf("restore: %v", err)
	}
	// Opened for writing, the file gets the bucket back.
	db2 := open(t, restored)
	if err := db2.AdapterState("wechat").Put("group", "conv-2"); err != nil {
		t.Error(err)
	}
}
