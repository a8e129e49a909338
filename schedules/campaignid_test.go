package schedules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withID is the example file with line inserted before its top-level name.
func withID(t *testing.T, line string) (src string, lineNo int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	src = string(b)
	i := strings.Index(src, "\nname = ") + 1
	return src[:i] + line + "\n" + src[i:], strings.Count(src[:i], "\n") + 1
}

func TestCampaignID(t *testing.T) {
	plain := loadExample(t)
	tests := []struct {
		name    string
		line    string // inserted before name; "" for none
		want    string
		wantErr string
	}{
		{"none", "", "", ""},
		{"letters and digits", `id = "anquan-2026-06"`, "anquan-2026-06", ""},
		{"underscore and a comment", `id = "Fire_2026"   # 活动代号`, "Fire_2026", ""},
		{"40 characters", `id = "` + strings.Repeat("a", 40) + `"`, strings.Repeat("a", 40), ""},
		{"space", `id = "anquan 2026"`, "", `活动代号 id = "anquan 2026" 不可用`},
		{"Chinese", `id = "安全生产月"`, "", `只用英文字母、数字、- 或 _`},
		{"too long", `id = "` + strings.Repeat("a", 41) + `"`, "", "最多40个字符"},
		{"empty", `id = ""`, "", `如 id = "anquan-2026-06"（活动的固定代号，以后改名也不会把数据弄混）`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, line := withID(t, tt.line)
			if tt.line == "" {
				src = plain.Text
			}
			s, err := Parse("schedule.toml", []byte(src))
			if tt.wantErr != "" {
				es, ok := err.(Errors)
				if !ok || len(es) != 1 {
					t.Fatalf("want one error, got %v", err)
				}
				if es[0].Line != line || !strings.Contains(es[0].Error(), tt.wantErr) {
					t.Errorf("error %q, want line %d and %q", es[0].Error(), line, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ID != tt.want {
				t.Errorf("ID = %q, want %q", s.ID, tt.want)
			}
			// The id changes nothing else: the same messages at the same times,
			// their keys under the campaign's id.
			got, want := s.Events(s.Start.AddDate(0, 0, -8), s.End.AddDate(0, 0, 8)), plain.Events(plain.Start.AddDate(0, 0, -8), plain.End.AddDate(0, 0, 8))
			if len(got) != len(want) {
				t.Fatalf("%d events, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Key != s.KeyPrefix()+want[i].Key || !got[i].At.Equal(want[i].At) {
					t.Errorf("event %d: %s, want %s", i, got[i].Describe(), want[i].Describe())
				}
			}
		})
	}
}

func TestProposeID(t *testing.T) {
	const rest = "start = \"2026-09-01\"\nend = \"2026-09-30\"\n\n[[task]]\nid = \"t\"\nname = \"任务\"\ndue = \"2026-09-10\"\n"
	tests := []struct {
		name   string
		src    string
		id     string
		line   int
		before string
	}{
		{"the example", "", "2026-06-anquan", 5, "name"},
		{"first known topic", "# 消防\nname = \"2026年消防安全宣传月\"\n" + rest, "2026-09-xiaofang", 2, "name"},
		{"ASCII words, not the year", "name = \"HSE Month 2026\"\n" + rest, "2026-09-hse-month", 1, "name"},
		{"nothing better", "name = \"九月报送\"\n" + rest, "2026-09-campaign", 1, "name"},
		{"no name", "# 说明\n\n" + rest, "2026-09-campaign", 3, "start"},
		{"long name", "name = \"" + strings.Repeat("Fire Drill ", 6) + "\"\n" + rest, "2026-09-fire-drill-fire-drill-fire-drill", 1, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *Schedule
			if tt.src == "" {
				s = loadExample(t)
			} else {
				var err error
				if s, err = Parse("s.toml", []byte(tt.src)); err != nil {
					t.Fatal(err)
				}
			}
			id, line, before := s.ProposeID()
			if id != tt.id || line != tt.line || before != tt.before {
				t.Errorf("ProposeID() = %q, %d, %q; want %q, %d, %q", id, line, before, tt.id, tt.line, tt.before)
			}
			// Written where proposed, the line is a valid id.
			lines := strings.Split(s.Text, "\n")
			lines = append(lines[:line-1], append([]string{`id = "` + id + `"`}, lines[line-1:]...)...)
			got, err := Parse("s.toml", []byte(strings.Join(lines, "\n")))
			if err != nil {
				t.Fatalf("with the proposed line: %v", err)
			}
			if got.ID != id {
				t.Errorf("ID %q after adding the proposed line, want %q", got.ID, id)
			}
		})
	}
}
