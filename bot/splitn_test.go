package bot

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"reportbot/schedules"
)

// splitTextRunes is splitText as it was written first, over []rune: the
// faster splitTextN must cut every text exactly where it did, or the June
// transcript and every answer would change.
func splitTextRunes(text string, max int) []string {
	if max <= 0 || len([]rune(text)) <= max {
		return []string{text}
	}
	var parts []string
	var cur []rune
	flush := func() {
		if s := strings.TrimRight(string(cur), "\n "); s != "" {
			parts = append(parts, s)
		}
		cur = cur[:0]
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		r := []rune(line)
		if len(cur)+len(r) > max {
			flush()
		}
		for len(r) > max {
			cut := max
			if i := strings.LastIndexAny(string(r[:max]), " 、；"); i > 0 {
				_, size := utf8.DecodeRuneInString(string(r[:max])[i:])
				cut = len([]rune(string(r[:max])[:i+size]))
			}
			parts = append(parts, strings.TrimRight(string(r[:cut]), " "))
			r = r[cut:]
		}
		cur = append(cur, r...)
	}
	flush()
	return parts
}

func TestSplitTextNCutsAsBefore(t *testing.T) {
	var units, lacks, ats []string
	for i := range 1000 {
		units = append(units, fmt.Sprintf("第%d社区", i))
		lacks = append(lacks, fmt.Sprintf("第%d社区 至少1张图片", i))
		ats = append(ats, fmt.Sprintf("@成员%s", strings.Repeat("甲", i%7)))
	}
	rollcall := "「本周典型做法」第40期（截止10月1日12:00）\n未报 334：" + strings.Join(units[:334], "、") +
		"\n部分报送 333：" + strings.Join(units[334:667], "、") + "\n还差：" + strings.Join(lacks[:333], "；")
	for _, tt := range []struct {
		name string
		text string
		max  int
	}{
		{"short", "各单位都已报齐。", 1000},
		{"empty", "", 10},
		{"no limit", rollcall, 0},
		{"roll-call of 1,000 units", rollcall, 1000},
		{"roll-call, small parts", rollcall, 37},
		{"mentions", strings.Join(ats, " "), 100},
		{"a line with no separator", strings.Repeat("字", 2500), 1000},
		{"separator first", "、" + strings.Repeat("字", 30), 10},
		{"spaces at the cut", strings.Repeat("甲乙 ", 40) + "\n" + strings.Repeat(" ", 30) + "\n丙", 9},
		{"many short lines", strings.Repeat("东风社区 文字1条\n", 300), 120},
		{"blank lines", "\n\n甲\n\n\n乙\n" + strings.Repeat("丙、", 50) + "\n\n", 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := splitTextRunes(tt.text, tt.max)
			if got := splitText(tt.text, tt.max); !slices.Equal(got, want) {
				t.Fatalf("splitText cut differently:\ngot  %q\nwant %q", got, want)
			}
			for n := 0; n <= len(want)+1; n++ {
				got := splitTextN(tt.text, tt.max, n)
				if w := want[:min(n, len(want))]; len(want) > 1 && !slices.Equal(got, w) {
					t.Fatalf("splitTextN(%d) = %q, want the first %d parts %q", n, got, n, w)
				}
			}
		})
	}
}

func TestCountItems(t *testing.T) {
	for _, text := range []string{"", "、", "甲", "甲、乙", "、甲、、乙；丙\n", "\n\n", "未报 3：甲、乙、丙\n还差：甲 至少1张图片；乙 至少1张图片", "a\xffb、c"} {
		want := len(strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(itemSeparators, r) }))
		if got := countItems(text); got != want {
			t.Errorf("countItems(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestRollcallLines(t *testing.T) {
	text := schedules.Requirement{Any: []schedules.Material{schedules.Text}, Min: 1}
	photo := schedules.Requirement{Any: []schedules.Material{schedules.Image}, Min: 1}
	photos := schedules.Requirement{Any: []schedules.Material{schedules.Image}, Min: 2}
	reports := []UnitReport{
		{Unit: "甲", Status: Partial, Missing: []schedules.Requirement{photo}},
		{Unit: "乙", Status: Missing, Missing: []schedules.Requirement{text, photo}},
		{Unit: "丙", Status: Partial, Missing: []schedules.Requirement{photo}},
		{Unit: "丁", Status: Reported},
		{Unit: "戊", Status: Partial, Missing: []schedules.Requirement{photos}},
		{Unit: "己", Status: Partial, Missing: []schedules.Requirement{text}},
		{Unit: "庚", Status: Partial, Missing: []schedules.Requirement{text}},
	}
	for _, tt := range []struct {
		name        string
		reports     []UnitReport
		show        []Status
		missingZero bool
		want        []string
		owing       []string
	}{
		{"未报", reports, []Status{Missing, Partial}, true,
			[]string{"未报 1：乙", "部分 5：甲、丙、戊、己、庚", "还差：甲 至少1张图片；丙 至少1张图片；戊 至少2张图片；己 至少1条文字；庚 至少1条文字"},
			[]string{"甲", "乙", "丙", "戊", "己", "庚"}},
		{"roll-call", reports, statusOrder, false,
			[]string{"已报 1：丁", "部分 5：甲、丙、戊、己、庚", "未报 1：乙", "还差：甲 至少1张图片；丙 至少1张图片；戊 至少2张图片；己 至少1条文字；庚 至少1条文字"},
			[]string{"甲", "乙", "丙", "戊", "己", "庚"}},
		{"all reported, 未报 says none", reports[3:4], []Status{Missing, Partial}, true, []string{"未报 0："}, nil},
		{"all reported, a nudge says nothing", reports[3:4], []Status{Missing, Partial}, false, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lines, owing := rollcallLines(tt.reports, tt.show, tt.missingZero)
			if !slices.Equal(lines, tt.want) {
				t.Errorf("lines:\ngot  %q\nwant %q", lines, tt.want)
			}
			if !slices.Equal(owing, tt.owing) {
				t.Errorf("owing %q, want %q", owing, tt.owing)
			}
		})
	}
}
