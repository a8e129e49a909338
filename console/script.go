package console

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"reportbot/schedules"
)

// Op is what a script line does.
type Op int

// The script's operations.
const (
	OpNone    Op = iota // blank line or # comment
	OpTime              // /time 2026-06-04 11:30, or /time +2h, +1d, +1d2h
	OpRestart           // /restart
	OpStop              // /stop
	OpStart             // /start
	OpMessage           // 张三: text, 张三: /image path, 张三 -> bot: text
)

// Line is one parsed script line.
type Line struct {
	Op Op
	// At is the absolute time of /time; Days and Add the relative one
	// (days on the calendar, then the duration).
	At   time.Time
	Days int
	Add  time.Duration
	// From, Private, Kind, Text and Path describe a message; Recall withdraws
	// the sender's last message.
	From    string
	Private bool
	Kind    schedules.Material
	Text    string
	Path    string
	Recall  bool
}

var (
	privateRE = regexp.MustCompile(`^(.+?)\s*->\s*(?:bot|机器人)\s*[:：]\s?(.*)$`)
	groupRE   = regexp.MustCompile(`^([^:：]+?)\s*[:：]\s?(.*)$`)
)

// ParseLine reads one line of the script protocol; times are in loc.
func ParseLine(s string, loc *time.Location) (Line, error) {
	s = strings.TrimRight(s, "\r")
	t := strings.TrimSpace(s)
	switch {
	case t == "" || strings.HasPrefix(t, "#"):
		return Line{}, nil
	case t == "/restart":
		return Line{Op: OpRestart}, nil
	case t == "/stop":
		return Line{Op: OpStop}, nil
	case t == "/start":
		return Line{Op: OpStart}, nil
	case strings.HasPrefix(t, "/time"):
		arg := strings.TrimSpace(strings.TrimPrefix(t, "/time"))
		if strings.HasPrefix(arg, "+") {
			days, d, ok := parseStep(arg[1:])
			if !ok {
				return Line{}, fmt.Errorf("/time %s: 写成 /time +30m、/time +2h、/time +1d（天）或 /time 2026-06-04 11:30", arg)
			}
			return Line{Op: OpTime, Days: days, Add: d}, nil
		}
		at, err := time.ParseInLocation("2006-01-02 15:04", arg, loc)
		if err != nil {
			return Line{}, fmt.Errorf("/time %s: 写成 /time 2026-06-04 11:30（或 /time +30m、+2h、+1d）", arg)
		}
		return Line{Op: OpTime, At: at}, nil
	case strings.HasPrefix(t, "/"):
		return Line{}, fmt.Errorf("不认识的命令 %q：可用 /time、/restart、/stop、/start", strings.Fields(t)[0])
	}
	l := Line{Op: OpMessage, Kind: schedules.Text}
	if m := privateRE.FindStringSubmatch(t); m != nil {
		l.From, l.Private, l.Text = strings.TrimSpace(m[1]), true, m[2]
	} else if m := groupRE.FindStringSubmatch(t); m != nil {
		l.From, l.Text = strings.TrimSpace(m[1]), m[2]
	} else {
		return Line{}, fmt.Errorf("看不懂 %q：消息写成“张三: 内容”，私聊写成“张三 -> bot: 内容”", t)
	}
	if l.From == "" {
		return Line{}, fmt.Errorf("%q 缺少发送人：写成“张三: 内容”", t)
	}
	for _, media := range []struct {
		cmd  string
		kind schedules.Material
	}{{"/image", schedules.Image}, {"/file", schedules.File}, {"/video", schedules.Video}} {
		if l.Text == media.cmd {
			return Line{}, fmt.Errorf("%s 后面要写文件路径", media.cmd)
		}
		if rest, ok := strings.CutPrefix(l.Text, media.cmd+" "); ok {
			l.Kind, l.Path, l.Text = media.kind, strings.TrimSpace(rest), ""
			return l, nil
		}
	}
	if strings.TrimSpace(l.Text) == "/recall" {
		l.Recall, l.Text = true, ""
	}
	return l, nil
}

// maxStepDays bounds /time +Nd: a campaign lasts months, not ages.
const maxStepDays = 3660

// parseStep reads the step of /time +…: whole days first (1d, as the
// calendar counts them), then a Go duration (2h30m); either may be left out,
// and together they must move the clock forward.
func parseStep(s string) (days int, d time.Duration, ok bool) {
	if n, rest, found := strings.Cut(s, "d"); found {
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 || v > maxStepDays || strings.HasPrefix(n, "+") || strings.HasPrefix(n, "-") {
			return 0, 0, false
		}
		days, s = v, rest
	}
	if s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return 0, 0, false
		}
	}
	return days, d, days > 0 || d > 0
}
