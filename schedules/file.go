package schedules

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// The file's shape as admins write it. Values stay strings here so that every
// check can name the line it failed on; see build.go for their meaning.
type fileSchedule struct {
	// ID is a pointer so that `id = ""` is an error while no id at all is not.
	ID         *string        `toml:"id"`
	Name       string         `toml:"name"`
	Timezone   string         `toml:"timezone"`
	Start      string         `toml:"start"`
	End        string         `toml:"end"`
	QuietHours string         `toml:"quiet_hours"`
	Calendar   fileCalendar   `toml:"calendar"`
	Defaults   fileTexts      `toml:"texts"`
	Tasks      []fileTask     `toml:"task"`
	Reminders  []fileRemind   `toml:"remind"`
	Announces  []fileAnnounce `toml:"announce"`
}

type fileCalendar struct {
	Official *bool    `toml:"official"`
	DaysOff  []string `toml:"days_off"`
	Workdays []string `toml:"workdays"`
}

type fileTexts struct {
	Remind   string `toml:"remind"`
	Nudge    string `toml:"nudge"`
	Rollcall string `toml:"rollcall"`
}

type fileTask struct {
	ID         string       `toml:"id"`
	Name       string       `toml:"name"`
	Keywords   []string     `toml:"keywords"`
	Requires   []string     `toml:"requires"`
	Start      string       `toml:"start"`
	Due        stringOrList `toml:"due"`
	Cron       string       `toml:"cron"`
	From       string       `toml:"from"`
	Until      string       `toml:"until"`
	OnDayOff   string       `toml:"on_day_off"`
	LateWindow string       `toml:"late_window"`
	Template   string       `toml:"template"`
}

type fileRemind struct {
	Task string `toml:"task"`
	Kind string `toml:"kind"`
	When string `toml:"when"`
	Text string `toml:"text"`
}

type fileAnnounce struct {
	At   stringOrList `toml:"at"`
	Text string       `toml:"text"`
}

// stringOrList accepts `due = "2026-06-09 18:00"` as well as a list of them.
type stringOrList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (s *stringOrList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*s = []string{v}
	case []any:
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				return fmt.Errorf("列表里应是带引号的日期时间，如 \"2026-06-09 18:00\"，而不是 %v", e)
			}
			*s = append(*s, str)
		}
	default:
		return fmt.Errorf("应写成带引号的日期时间，如 \"2026-06-09 18:00\"，或它们的列表")
	}
	return nil
}

// Error is one problem in a schedule file, at a line, saying what to change.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in one file, in line order.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads and validates the schedule file at path.
func Load(path string) (*Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load schedule %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse validates a schedule file's contents; name is used in error messages.
// A returned error is an Errors listing every problem with its line.
func Parse(name string, data []byte) (*Schedule, error) {
	// Decoded twice: first loosely, so that a value of the wrong type is
	// reported at its own line and in Chinese, then into the file's shape.
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, Errors{syntaxError(name, string(data), err, scheduleFile)}
	}
	b := &builder{file: name, lines: indexLines(string(data))}
	if b.checkTypes(reflect.TypeFor[fileSchedule](), raw, ""); len(b.errs) > 0 {
		return nil, b.errs
	}
	var f fileSchedule
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		// Not expected after checkTypes; still no decoder text for the admin.
		return nil, Errors{syntaxError(name, string(data), err, scheduleFile)}
	}
	for _, k := range md.Undecoded() {
		for _, line := range b.lines.find(k.String()) {
			b.errorf(line, "不认识的设置项 %q：检查拼写（可用的设置见 schedule.example.toml）", k.String())
		}
	}
	s := b.build(&f)
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	s.Source = name
	s.Text = string(data)
	return s, nil
}

// find returns the lines that set key (as toml.Key prints it, without the
// indexes of arrays of tables), in file order.
func (idx lineIndex) find(key string) []int {
	var lines []int
	for path, n := range idx {
		if stripIndexes(path) == key {
			lines = append(lines, n)
		}
	}
	if len(lines) == 0 {
		lines = append(lines, 0)
	}
	sort.Ints(lines)
	return lines
}

func stripIndexes(path string) string {
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}
