package bot

// StateStore keeps a transport's small state across restarts (e.g. a group's
// conversation id learned from its first message).
type StateStore interface {
	Get(key string) (string, error)
	Put(key, value string) error
}
