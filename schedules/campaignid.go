package schedules

import (
	"strings"
	"unicode"
)

// topicWords name common campaigns in the ASCII an id needs: most names are
// all Chinese, and a date alone tells two campaigns of one month apart poorly.
var topicWords = []struct{ zh, id string }{
	{"安全", "anquan"},
	{"消防", "xiaofang"},
	{"防汛", "fangxun"},
	{"防火", "fanghuo"},
	{"应急", "yingji"},
	{"隐患", "yinhuan"},
	{"燃气", "ranqi"},
	{"禁毒", "jindu"},
	{"环保", "huanbao"},
	{"卫生", "weisheng"},
}

// ProposeID suggests an id for a schedule that has none, and the line to write
// it on: before the top-level name, or else before the file's first setting,
// since top-level keys must come before any [table].
func (s *Schedule) ProposeID() (id string, line int, before string) {
	id = s.Start.Format("2006-01") + "-" + topic(s.Name)
	if len(id) > maxCampaignID {
		id = strings.TrimRight(id[:maxCampaignID], "-_")
	}
	if n := indexLines(s.Text)["name"]; n > 0 {
		return id, n, "name"
	}
	for i, l := range strings.Split(s.Text, "\n") {
		l = strings.TrimSpace(stripComment(l))
		if l == "" {
			continue
		}
		if key, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "[") {
			l = strings.TrimSpace(key)
		}
		return id, i + 1, l
	}
	return id, 1, ""
}

// topic is the campaign's name in ASCII: its own ASCII words but numbers (the
// date is there already), else the first known topic in it, else "campaign".
func topic(name string) string {
	var words []string
	for _, w := range strings.FieldsFunc(name, func(r rune) bool {
		return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r))
	}) {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			words = append(words, strings.ToLower(w))
		}
	}
	if len(words) > 0 {
		return strings.Join(words, "-")
	}
	best, at := "campaign", len(name)
	for _, t := range topicWords {
		if i := strings.Index(name, t.zh); i >= 0 && i < at {
			best, at = t.id, i
		}
	}
	return best
}
