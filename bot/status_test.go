package bot_test

import (
	"testing"
	"time"

	"reportbot/bot"
)

// TestTransportStatusSet: Since moves only when Online changes, an empty
// error keeps the one shown, and only going from off to on says "came online".
func TestTransportStatusSet(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	var s bot.TransportStatus
	for i, step := range []struct {
		on         bool
		state, err string
		came       bool
		since      time.Time
		lastErr    string
	}{
		{true, "已连接", "", true, t0, ""},
		{true, "已连接", "", false, t0, ""},
		{false, "未连接，正在重连", "read: connection reset", false, t0.Add(2 * time.Minute), "read: connection reset"},
		{false, "未连接，正在重连", "", false, t0.Add(2 * time.Minute), "read: connection reset"},
		{true, "已连接", "", true, t0.Add(4 * time.Minute), "read: connection reset"},
	} {
		now := t0.Add(time.Duration(i) * time.Minute)
		if came := s.Set(step.on, step.state, now, step.err); came != step.came {
			t.Errorf("step %d: came online %v, want %v", i, came, step.came)
		}
		if s.Online != step.on || s.State != step.state || !s.Since.Equal(step.since) || s.LastError != step.lastErr {
			t.Errorf("step %d: %+v, want online %v, state %q, since %v, last error %q", i, s, step.on, step.state, step.since, step.lastErr)
		}
	}
}
