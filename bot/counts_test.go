package bot

import (
	"encoding/json"
	"testing"

	"reportbot/schedules"
)

func TestCounts(t *testing.T) {
	var c Counts
	c.count(Submission{Kind: schedules.File, FileName: "统计表.XLSX"}, 1)
	c.count(Submission{Kind: schedules.Image}, 1)
	c.count(Submission{Kind: schedules.Image}, 1)
	c.count(Submission{Kind: schedules.Image}, -1)
	c.count(Submission{Kind: "sticker"}, 1) // not a material: not counted, no panic
	for m, want := range map[schedules.Material]int{schedules.File: 1, schedules.Sheet: 1, schedules.Image: 1, schedules.Text: 0, "sticker": 0} {
		if got := c.Of(m); got != want {
			t.Errorf("%s: %d, want %d", m, got, want)
		}
	}
	b, err := json.Marshal(c)
	if err != nil || string(b) != `{"file":1,"image":1,"xlsx":1}` {
		t.Errorf("JSON %s %v", b, err)
	}
	var back Counts
	if err := json.Unmarshal([]byte(`{"file":1,"image":1,"xlsx":1,"gif":7}`), &back); err != nil || back != c {
		t.Errorf("JSON back %v %v", back, err)
	}
	if (Counts{}).IsZero() != true || c.IsZero() || (Counts{-1}).positive() != (Counts{}) {
		t.Error("IsZero/positive")
	}
}
