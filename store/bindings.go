package store

import bolt "go.etcd.io/bbolt"

// Binding implements bot.Store.
func (s *DB) Binding(member string) (string, error) {
	var unit string
	err := s.db.View(func(tx *bolt.Tx) error {
		unit = string(tx.Bucket(bucketBinds).Get([]byte(member)))
		return nil
	})
	return unit, err
}

// Bind implements bot.Store.
func (s *DB) Bind(member, unit string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBinds).Put([]byte(member), []byte(unit))
	})
}

// BoundMembers implements bot.Store. Bindings are few (one per member), so a scan is fine.
func (s *DB) BoundMembers(unit string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBinds).ForEach(func(k, v []byte) error {
			if string(v) == unit {
				out = append(out, string(k))
			}
			return nil
		})
	})
	return out, err
}
