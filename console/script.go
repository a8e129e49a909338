package console

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"reportbot/schedules"
)

// Op is what a script line does.
type Op int

// The script's operations.
const (
	OpNone    Op = iota // blank line or # comment
	OpTime              // /time 2026-06-04 11:30, or /time +2h
	OpRestart           // /restart
	OpStop              // /stop
	OpStart             // /start
	OpMessage           // 张三: text, 张三: /image path, 张三 -> bot: text
)

// Line is one parsed script line.
type Line struct {
	Op Op
	// At is the absolute time of /time; Add the relative one.
	At  time.Time
	Add time.Duration
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
			d, err := time.ParseDuration(arg[1:])
			if err != nil || d <= 0 {
				return Line{}, fmt.Errorf("/time %s: 写成 /time +30m 或 /time 2026-06-04 11:30", arg)
			}
			return Line{Op: OpTime, Add: d}, nil
		}
		at, err := time.ParseInLocation("2006-01-02 15:04", arg, loc)
		if err != nil {
			return Line{}, fmt.Errorf("/time %s: 写成 /time 2026-06-04 11:30（或 /time +30m）", arg)
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
