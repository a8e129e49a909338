//go:build !linux

package store

// readAhead is Linux's hint (see readahead_linux.go), where the bot runs;
// other systems go without it.
func readAhead([]byte) {}
