package store

import (
	bolt "go.etcd.io/bbolt"

	"reportbot/bot"
)

// key is the member's stable id, or their display name where the platform gives none.
func bindKey(who bot.Member) []byte {
	if who.ID != "" {
		return []byte(who.ID)
	}
	return []byte(who.Name)
}

// Binding implements bot.Store: by the member's id, else by their display
// name, as an older reportbot kept bindings.
func (s *DB) Binding(who bot.Member) (string, error) {
	var unit string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBinds)
		v := b.Get(bindKey(who))
		if v == nil && who.Name != "" {
			v = b.Get([]byte(who.Name))
		}
		unit = string(v)
		return nil
	})
	return unit, err
}

// Bind implements bot.Store. The display name is kept beside the binding, so
// that the member can be @mentioned; a binding an older reportbot kept under
// the display name moves to the id.
func (s *DB) Bind(who bot.Member, unit string) error {
	return s.commits.solo(func(tx *bolt.Tx) error {
		key := bindKey(who)
		if who.Name != "" && who.Name != string(key) {
			if err := tx.Bucket(bucketBinds).Delete([]byte(who.Name)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketBoundNames).Put(key, []byte(who.Name)); err != nil {
			return err
		}
		return tx.Bucket(bucketBinds).Put(key, []byte(unit))
	})
}

// BoundMembers implements bot.Store. Bindings are few (one per member), so a scan is fine.
func (s *DB) BoundMembers(unit string) ([]bot.Member, error) {
	var out []bot.Member
	err := s.db.View(func(tx *bolt.Tx) error {
		names := tx.Bucket(bucketBoundNames)
		return tx.Bucket(bucketBinds).ForEach(func(k, v []byte) error {
			if string(v) != unit {
				return nil
			}
			who := bot.Member{ID: string(k), Name: string(k)}
			if names != nil {
				if n := names.Get(k); len(n) > 0 {
					who.Name = string(n)
				}
			}
			out = append(out, who)
			return nil
		})
	})
	return out, err
}
