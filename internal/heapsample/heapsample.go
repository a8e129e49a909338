// Package heapsample measures the peak heap of a piece of work, for the
// benchmarks that report memory: runtime's own figures give the total
// allocated, not the most held at once.
package heapsample

import (
	"runtime"
	"sync"
	"time"
)

// Peak runs f while reading the heap in use every interval, and returns the
// largest figure seen (a sample: a peak shorter than interval can be missed).
func Peak(interval time.Duration, f func()) uint64 {
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak
}
