package schedules

import (
	"fmt"
	"strings"
	"testing"
)

// A campaign of more than MaxTasks tasks is refused at the first task too
// many, with one error however many there are.
func TestTooManyTasks(t *testing.T) {
	file := func(tasks int) string {
		var b strings.Builder
		b.WriteString("start = \"2026-06-01\"\nend = \"2026-06-30\"\n")
		for i := 1; i <= tasks; i++ {
			fmt.Fprintf(&b, "[[task]]\nid = \"t%d\"\nname = \"任务%d\"\ndue = \"2026-06-20 18:00\"\n", i, i)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name  string
		tasks int
		line  int // of the error; 0 for none
	}{
		{"at the limit", MaxTasks, 0},
		{"one over", MaxTasks + 1, 3 + 4*MaxTasks},
		{"ten thousand", 10_000, 3 + 4*MaxTasks},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("schedule.toml", []byte(file(tt.tasks)))
			if tt.line == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok || len(es) != 1 {
				t.Fatalf("error %v, want one", err)
			}
			if es[0].Line != tt.line || !strings.Contains(es[0].Msg, fmt.Sprintf("有%d个 [[task]]，一个活动最多%d个", tt.tasks, MaxTasks)) {
				t.Errorf("%v: want line %d and the counts", es[0], tt.line)
			}
		})
	}
}
