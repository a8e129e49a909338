// Package alerttest records the admins' alerts for tests: every transport
// takes an alerter, and its tests read what it said.
package alerttest

import (
	"context"
	"strings"
	"sync"
)

// Recorder keeps every alert text, safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	texts []string
}

// Alert records text; it never fails.
func (r *Recorder) Alert(_ context.Context, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.texts = append(r.texts, text)
	return nil
}

// All is a copy of the texts recorded so far, in order.
func (r *Recorder) All() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.texts...)
}

// Count is how many recorded texts contain substr.
func (r *Recorder) Count(substr string) int {
	n := 0
	for _, t := range r.All() {
		if strings.Contains(t, substr) {
			n++
		}
	}
	return n
}
