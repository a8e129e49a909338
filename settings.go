package main

import (
	"encoding"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"reportbot/alert"
	"reportbot/bot"
	"reportbot/console"
	"reportbot/dingtalk"
	"reportbot/schedules"
	"reportbot/web"
	"reportbot/wechat"
	"reportbot/wecom"
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
	Wecom     wecom.Config
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
	Wecom     wecom.Config    `toml:"wecom"`
	Alert     alert.Config    `toml:"alert"`
	Web       web.Config      `toml:"web"`
	Backup    backupConfig    `toml:"backup"`
	Retention retentionConfig `toml:"retention"`
	Console   console.Config  `toml:"console"`
}

// transports are the platforms [bot] transport can name.
var transports = []string{"wechat", "dingtalk", "wecom"}

// loadSettingsFor reads the config file at path for a bot on platform (see parseSettingsFor).
func loadSettingsFor(path, platform string) (*settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("读不了设置文件 %s：%w", path, err)
	}
	return parseSettingsFor(path, data, platform)
}

// parseSettings reads a config file's contents for the platform [bot]
// transport names; name is used in errors.
func parseSettings(name string, data []byte) (*settings, error) {
	return parseSettingsFor(name, data, "")
}

// parseSettingsFor reads a config file's contents; name is used in errors.
// platform is the chat the bot will run on: "" for the one [bot] transport
// names, whose required settings must then be there, or "console" (the
// demo), which needs none. A key that neither the domain nor any adapter
// reads is an error, so a typo never passes silently. A returned error is a
// schedules.Errors: every problem at its line, in line order.
func parseSettingsFor(name string, data []byte, platform string) (*settings, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, schedules.Errors{schedules.SyntaxError(name, data, err, bot.ConfigFile)}
	}
	// The domain's part and the adapters' sections are checked together, so
	// that all values of the wrong type are listed at once.
	errs := append(schedules.CheckTypes(name, data, reflect.TypeFor[bot.Config](), raw),
		schedules.CheckTypes(name, data, reflect.TypeFor[sections](), raw)...)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	cfg, err := bot.DecodeConfig(name, data)
	if err != nil {
		return nil, err
	}
	var sec sections
	md, err := toml.Decode(string(data), &sec)
	if err != nil {
		// Not expected after CheckTypes; still no decoder text for the admin.
		return nil, schedules.Errors{schedules.SyntaxError(name, data, err, bot.ConfigFile)}
	}
	s := &settings{Config: cfg, path: name, Transport: sec.Bot.Transport, Wechat: sec.Wechat, Dingtalk: sec.Dingtalk, Wecom: sec.Wecom, Alert: sec.Alert, Web: sec.Web,
		Backup: sec.Backup, Retention: sec.Retention, Console: sec.Console, CatchUpWait: sec.Bot.CatchUpWait.Duration}
	lines := schedules.IndexLines(string(data))
	problems := cfg.Check(name)
	// A key is unknown when neither the domain nor any section read it. An
	// unknown section is one problem, not one more for each of its keys.
	var unknown []string
	for _, k := range md.Undecoded() {
		if key := k.String(); slices.Contains(cfg.Undecoded, key) && !slices.Contains(unknown, key) {
			unknown = append(unknown, key)
		}
	}
	var sectionsSeen []string
	for _, key := range unknown {
		if slices.ContainsFunc(sectionsSeen, func(s string) bool { return strings.HasPrefix(key, s+".") }) {
			continue
		}
		msg := unknownKey(key)
		if slices.ContainsFunc(unknown, func(u string) bool { return strings.HasPrefix(u, key+".") }) {
			sectionsSeen = append(sectionsSeen, key)
			msg = unknownSection(key)
		}
		for _, line := range lines.Find(key) {
			problems = append(problems, schedules.Error{File: name, Line: line, Msg: msg})
		}
	}
	if s.Transport == "" {
		s.Transport = "wechat"
	}
	var adapters []string
	if !slices.Contains(transports, s.Transport) {
		adapters = append(adapters, fmt.Sprintf("%s: [bot] transport = %q：现在可以写的是 %s", name, s.Transport, strings.Join(transports, "、")))
	}
	switch {
	case s.CatchUpWait == 0:
		s.CatchUpWait = 10 * time.Second
	case s.CatchUpWait < 0 || s.CatchUpWait > 10*time.Minute:
		adapters = append(adapters, fmt.Sprintf("%s: [bot] catch_up_wait = %q：写 1s 到 10m 之间的时长，如 \"10s\"", name, s.CatchUpWait))
	}
	if s.Wechat.Group == "" {
		s.Wechat.Group = sec.Bot.Group
	}
	adapters = append(adapters, s.Wechat.Check(name)...)
	if platform == "" {
		// Only the platform in use must be complete: a [dingtalk] section kept
		// for later does not stop a WeChat bot, and the demo needs neither.
		switch s.Transport {
		case "wechat":
			if strings.TrimSpace(s.Wechat.Group) == "" {
				adapters = append(adapters, name+": [wechat] group 没有写群名：在 [wechat] 里写 group = \"群的完整名称\"（机器人所在的微信群，和手机上显示的一字不差）")
			}
		case "dingtalk":
			adapters = append(adapters, s.Dingtalk.Check(name)...)
		case "wecom":
			adapters = append(adapters, s.Wecom.Check(name)...)
		}
	}
	adapters = append(adapters, s.Alert.Check(name)...)
	adapters = append(adapters, s.Web.Check(name)...)
	adapters = append(adapters, s.Backup.check(name)...)
	adapters = append(adapters, s.Retention.check(name)...)
	for _, a := range adapters {
		problems = append(problems, placeProblem(name, lines, a))
	}
	if len(problems) > 0 {
		problems.Sort()
		return nil, problems
	}
	return s, nil
}

// sectionKeyRE reads the section and key an adapter's problem begins with:
// "[wechat] send_interval 至少…", "[dingtalk] 没有 client_id…".
var sectionKeyRE = regexp.MustCompile(`^\[(\w+)\](?: (\w+))?`)

// placeProblem puts an adapter's problem ("name: [section] key …") at the
// line of its key, else of its section, else of the whole file. Adapters
// keep saying what they check in their own words; only the wiring has the file.
func placeProblem(name string, lines schedules.Lines, problem string) schedules.Error {
	msg := strings.TrimPrefix(problem, name+": ")
	path := ""
	if m := sectionKeyRE.FindStringSubmatch(msg); m != nil {
		path = m[1]
		if m[2] != "" {
			path += "." + m[2]
		}
	}
	return schedules.Error{File: name, Line: lines.Line(path), Msg: msg}
}

// knownKeys are every key the config file may set, as toml.Key prints them
// ("bot.admins", "unit.members"): the domain's and each adapter's.
var knownKeys = func() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
			return
		}
		for i := range t.NumField() {
			name := t.Field(i).Tag.Get("toml")
			if name == "" || name == "-" {
				continue
			}
			keys = append(keys, prefix+name)
			walk(t.Field(i).Type, prefix+name+".")
		}
	}
	walk(reflect.TypeFor[bot.Config](), "")
	walk(reflect.TypeFor[sections](), "")
	return keys
}()

// unknownKey says what is wrong with a key no part of the program reads,
// with the known key it most likely means.
func unknownKey(key string) string {
	msg := fmt.Sprintf("不认识的设置项 %q", key)
	if near := nearestKey(key); near != "" {
		return msg + "：" + near
	}
	return msg + "：检查拼写（可写的设置见 config.example.toml）"
}

// nearestKey proposes what an unknown key meant: a known key of the same
// table spelt nearly alike, the same key in the table it belongs to, or a
// table named nearly alike; "" when nothing is close.
func nearestKey(key string) string {
	parent, leaf := "", key
	if i := strings.LastIndex(key, "."); i >= 0 {
		parent, leaf = key[:i], key[i+1:]
	}
	best, bestDist := "", 0
	for _, k := range knownKeys {
		kp, kl := "", k
		if i := strings.LastIndex(k, "."); i >= 0 {
			kp, kl = k[:i], k[i+1:]
		}
		if kp != parent {
			continue
		}
		if d := editDistance(leaf, kl); d <= closeEnough(leaf) && (best == "" || d < bestDist) {
			best, bestDist = kl, d
		}
	}
	if best != "" {
		return fmt.Sprintf("是不是 %s？", best)
	}
	for _, k := range knownKeys {
		if i := strings.LastIndex(k, "."); i >= 0 && k[i+1:] == leaf && k[:i] != parent {
			return fmt.Sprintf("%s 应写在 [%s] 一节里", leaf, k[:i])
		}
	}
	return ""
}

// unknownSection says what is wrong with a section no part of the program
// reads, with the section it most likely means.
func unknownSection(key string) string {
	msg := fmt.Sprintf("不认识的一节 [%s]", key)
	best, bestDist := "", 0
	for _, k := range knownKeys {
		if strings.Count(k, ".") != strings.Count(key, ".") {
			continue
		}
		if d := editDistance(key, k); d <= closeEnough(key) && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return msg + fmt.Sprintf("：是不是 [%s]？", best)
	}
	return msg + "：检查拼写（可写的各节见 config.example.toml）"
}

// closeEnough is how many edits still make a misspelling of a word this long.
func closeEnough(word string) int {
	if len(word) <= 4 {
		return 1
	}
	return 2
}

// editDistance counts the single-character insertions, deletions and
// substitutions between a and b (Levenshtein).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(y)]
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
