//go:build !linux

package main

import "errors"

// dropCache is Linux's posix_fadvise; elsewhere the cold runs are skipped.
func dropCache(string) error { return errors.New("dropping the page cache needs Linux") }
