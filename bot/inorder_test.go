package bot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"reportbot/bot"
)

// HandleInOrder handles what came in order, and at a stop what was already
// taken, with a context that outlives the caller's.
func TestHandleInOrder(t *testing.T) {
	work, stop := make(chan int, 10), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var got []int
	var drained bool
	for i := 1; i <= 3; i++ {
		work <- i
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		bot.HandleInOrder(ctx, work, stop, time.Minute, func(ctx context.Context, n int) {
			got = append(got, n)
			if n == 3 {
				for i := 4; i <= 6; i++ {
					work <- i // arrive as the stop comes: still handled
				}
				cancel()
				close(stop)
			}
			if n == 6 {
				drained = ctx.Err() == nil
			}
		})
	}()
	<-done
	if !slices.Equal(got, []int{1, 2, 3, 4, 5, 6}) || !drained {
		t.Errorf("handled %v (drained with a live context: %v), want 1…6 in order", got, drained)
	}
}
