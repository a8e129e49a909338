package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"reportbot/alert"
	"reportbot/bot"
	"reportbot/console"
	"reportbot/dingtalk"
	"reportbot/web"
	"reportbot/wechat"
)

// settings is the whole config file: the domain's part, and each adapter's
// section, which the adapter itself defines and checks.
type settings struct {
	*bot.Config
	// path names the file in messages.
	path string
	// Transport is [bot] transport: the platform the bot runs on.
	Transport string
	Wechat    wechat.Config
	Dingtalk  dingtalk.Config
	Alert     alert.Config
	Web       web.Config
	Backup    backupConfig
	Retention retentionConfig
	Console   console.Config

	// CatchUpWait is [bot] catch_up_wait: at a start on a platform that
	// cannot tell when the messages waiting for the bot are in (钉钉), how long
	// scheduled messages wait for them.
	CatchUpWait time.Duration
}

// sections are the parts of the file outside the domain's.
type sections struct {
	Bot struct {
		Transport string `toml:"transport"`
		// Group is where older config files name the WeChat group.
		Group       string       `toml:"group"`
		CatchUpWait bot.Duration `toml:"catch_up_wait"`
	} `toml:"bot"`
	Wechat    wechat.Config   `toml:"wechat"`
	Dingtalk  dingtalk.Config `toml:"dingtalk"`
	Alert     alert.Config    `toml:"alert"`
	Web       web.Config      `toml:"web"`
	Backup    backupConfig    `toml:"backup"`
	Retention retentionConfig `toml:"retention"`
	Console   console.Config  `toml:"console"`
}

// transports are the platforms [bot] transport can name.
var transports = []string{"wechat", "dingtalk"}

func loadSettings(path string) (*settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	return parseSettings(path, data)
}

// parseSettings reads a config file's contents; name is used in errors. A key
// that neither the domain nor any adapter reads is an error, so a typo never
// passes silently.
func parseSettings(name string, data []byte) (*settings, error) {
	cfg, err := bot.ParseConfig(name, data)
	if err != nil {
		return nil, err
	}
	var sec sections
	md, err := toml.Decode(string(data), &sec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &settings{Config: cfg, path: name, Transport: sec.Bot.Transport, Wechat: sec.Wechat, Dingtalk: sec.Dingtalk, Alert: sec.Alert, Web: sec.Web,
		Backup: sec.Backup, Retention: sec.Retention, Console: sec.Console, CatchUpWait: sec.Bot.CatchUpWait.Duration}
	// A key is unknown when neither the domain nor any section read it.
	var problems []string
	for _, k := range md.Undecoded() {
		if slices.Contains(cfg.Undecoded, k.String()) {
			problems = append(problems, fmt.Sprintf("%s: 不认识的设置项 %q：检查拼写（见 config.example.toml）", name, k.String()))
		}
	}
	if s.Transport == "" {
		s.Transport = "wechat"
	}
	if !slices.Contains(transports, s.Transport) {
		problems = append(problems, fmt.Sprintf("%s: [bot] transport = %q：现在可以写的是 %s", name, s.Transport, strings.Join(transports, "、")))
	}
	switch {
	case s.CatchUpWait == 0:
		s.CatchUpWait = 10 * time.Second
	case s.CatchUpWait < 0 || s.CatchUpWait > 10*time.Minute:
		problems = append(problems, fmt.Sprintf("%s: [bot] catch_up_wait = %q：写 1s 到 10m 之间的时长，如 \"10s\"", name, s.CatchUpWait))
	}
	if s.Wechat.Group == "" {
		s.Wechat.Group = sec.Bot.Group
	}
	problems = append(problems, s.Wechat.Check(name)...)
	if s.Transport == "dingtalk" {
		// Only the platform in use must be complete: a [dingtalk] section kept
		// for later does not stop a WeChat bot.
		problems = append(problems, s.Dingtalk.Check(name)...)
	}
	problems = append(problems, s.Alert.Check(name)...)
	problems = append(problems, s.Web.Check(name)...)
	problems = append(problems, s.Backup.check(name)...)
	problems = append(problems, s.Retention.check(name)...)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return s, nil
}

// backupConfig is the [backup] section: when the running bot copies its database.
type backupConfig struct {
	// DailyAt is the time of the daily backup ("03:00"); "none" turns it off.
	DailyAt string `toml:"daily_at"`
	// Keep is how many backups are kept (the oldest go first).
	Keep int `toml:"keep"`
}

func (c *backupConfig) check(name string) []string {
	if c.DailyAt == "" {
		c.DailyAt = "03:00"
	}
	if c.Keep == 0 {
		c.Keep = 7
	}
	var p []string
	if _, ok := c.daily(); !ok && c.DailyAt != "none" {
		p = append(p, fmt.Sprintf("%s: [backup] daily_at = %q：写成 \"03:00\" 这样的时间，不要每日备份写 \"none\"", name, c.DailyAt))
	}
	if c.Keep < 1 {
		p = append(p, name+": [backup] keep 至少为1")
	}
	return p
}

// daily is the minute of the day of the daily backup; ok is false when off.
func (c *backupConfig) daily() (minute int, ok bool) {
	if c.DailyAt == "none" {
		return 0, false
	}
	var h, m int
	if _, err := fmt.Sscanf(c.DailyAt, "%d:%d", &h, &m); err != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
