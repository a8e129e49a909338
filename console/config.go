package console

// Config is the config file's [console] section: what the demo needs instead of a phone.
type Config struct {
	// Remarks maps a display name to the remark name the bot account gave that
	// contact, as WeChat's contact list would.
	Remarks map[string]string `toml:"remarks"`
}
