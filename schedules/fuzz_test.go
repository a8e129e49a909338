package schedules

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any file parses or fails with errors, never a panic; a schedule
// that parses sends nothing on a day off or in the quiet hours, in order.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "schedule.example.toml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(dayOffSchedule))
	f.Add([]byte("start = \"2026-06-01\"\nend = \"2026-06-02\"\n[[task]]\nid = \"a\"\nname = \"甲\"\ncron = \"* * * * *\"\n"))
	f.Add([]byte("[[task]]\n[[task.remind]]\n"))
	f.Add([]byte(standing("2026-09-21", "2026-10-16", "cron = \"0 9,17 * * MON-FRI\"\non_day_off = \"next\"", "kind = \"nudge\"\nwhen = \"-1h\"")))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.toml", data)
		if err != nil {
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		var last Event
		for i, e := range s.Events(s.Start.AddDate(0, 0, -8), s.End.AddDate(0, 0, 8)) {
			if !s.Allowed(e.At) {
				t.Fatalf("%s not allowed", e.Describe())
			}
			if i > 0 && e.At.Before(last.At) {
				t.Fatalf("events out of order: %s after %s", e.Describe(), last.Describe())
			}
			last = e
		}
	})
}
