package heapsample

import (
	"testing"
	"time"
)

// A buffer held while sampled shows in the peak.
func TestPeakSeesAHeldBuffer(t *testing.T) {
	var keep []byte
	peak := Peak(time.Millisecond, func() {
		keep = make([]byte, 64<<20)
		for i := range keep {
			keep[i] = 1
		}
		time.Sleep(20 * time.Millisecond)
	})
	if peak < 64<<20 || len(keep) == 0 {
		t.Errorf("peak %d bytes while a 64 MB buffer was held", peak)
	}
}
