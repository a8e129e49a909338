package bot

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"reportbot/schedules"
)

// Config is the domain's part of the settings file: who the units and admins
// are, and how messages are judged. Each adapter reads its own section of the
// same file; Undecoded lists what this part did not read, so that the wiring
// can refuse keys that no part knows.
type Config struct {
	Bot     BotConfig     `toml:"bot"`
	Reports ReportsConfig `toml:"reports"`
	Units   []Unit        `toml:"unit"`
	// Undecoded are the file's keys outside the domain's part ("wechat.send_interval").
	Undecoded []string `toml:"-"`
	// lines places Check's problems in the file.
	lines schedules.Lines
}

// BotConfig holds the general settings.
type BotConfig struct {
	// Name is the bot's name in the group, so that "@报送机器人 未报" is understood.
	Name string `toml:"name"`
	// Office is the street office the reports go up from ("XX街道办事处"):
	// the 汇编's title names it. "" leaves it out.
	Office string `toml:"office"`
	// DataDir holds the database and exports.
	DataDir string `toml:"data_dir"`
	// Schedule is the schedule file's path, relative to the config file.
	Schedule string `toml:"schedule"`
	// Admins are the admins' verified identities: on web WeChat the remark
	// names (备注名) the bot account gave them, on the official platforms their
	// user ids.
	Admins []string `toml:"admins"`
	// MaxMediaMB refuses larger images, files and videos.
	MaxMediaMB float64 `toml:"max_media_mb"`
	// ReceiptDelay waits this long after a unit's last message before the receipt,
	// so that a text and the photos after it get one receipt.
	ReceiptDelay Duration `toml:"receipt_delay"`
	// FollowMinutes: a message within this many minutes of the same member's
	// report belongs to the same task.
	FollowMinutes int `toml:"follow_minutes"`
	// MaxMessageChars splits longer texts into several messages.
	MaxMessageChars int `toml:"max_message_chars"`
	// OutboxMaxAge drops owed messages (receipts, reminders, replies) that
	// could not be sent for this long, with a log line, rather than send them late.
	OutboxMaxAge Duration `toml:"outbox_max_age"`
}

// ReportsConfig says what counts as a report.
type ReportsConfig struct {
	// NotReports are replies that never count as a report ("收到", "好的").
	NotReports []string `toml:"not_reports"`
	// MinChars is the least number of characters (not counting spaces,
	// punctuation and emoji) of a text that counts as a report.
	MinChars int `toml:"min_chars"`
}

// Unit is a reporting unit: a 社区, 村 or 站所办.
type Unit struct {
	Name string `toml:"name"`
	// Aliases are other names members use for it ("东风").
	Aliases []string `toml:"aliases"`
	// Members are the people who report for it: group display names, or
	// platform user ids.
	Members []string `toml:"members"`
}

// Duration is a time.Duration written as "1m30s" in the file.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v < 0 {
		return fmt.Errorf("时长 %q 无法识别：写成 \"1m\"、\"30s\" 或 \"2h\"", b)
	}
	d.Duration = v
	return nil
}

// DefaultNotReports are replies that acknowledge a message and are never a report.
var DefaultNotReports = []string{"收到", "好的", "好", "已阅", "阅", "明白", "知道了", "了解", "谢谢", "感谢",
	"ok", "嗯", "嗯嗯", "是的", "对", "好滴", "马上", "收到谢谢", "收到马上办", "收到，马上安排", "辛苦了", "辛苦", "👍", "🙏", "👌"}

// LoadConfig reads the config file at path and fills in defaults.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config %s: %w", path, err)
	}
	return ParseConfig(path, data)
}

// ConfigFile is how the advice on the config file's syntax names it.
var ConfigFile = schedules.FileKind{Noun: "设置文件", Sections: "[bot] 或 [[unit]]"}

// Limits of a config: beyond them a roll-call is pages long and members
// cannot be told apart. 1,000 units is the scale the benchmarks measure.
const (
	MaxUnits          = 1000
	MaxMembersPerUnit = 100
)

// ParseConfig reads a config file's contents; name is used in errors. A
// returned error is a schedules.Errors: every problem at its line.
func ParseConfig(name string, data []byte) (*Config, error) {
	c, err := DecodeConfig(name, data)
	if err != nil {
		return nil, err
	}
	if errs := c.Check(name); len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// DecodeConfig reads the domain's part of a config file and fills in
// defaults, without judging the values (Check does): the wiring decodes the
// adapters' sections of the same file and reports all problems together.
// Text that is not TOML and values of the wrong type are a schedules.Errors.
func DecodeConfig(name string, data []byte) (*Config, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, schedules.Errors{schedules.SyntaxError(name, data, err, ConfigFile)}
	}
	if errs := schedules.CheckTypes(name, data, reflect.TypeFor[Config](), raw); len(errs) > 0 {
		return nil, errs
	}
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		// A duration that does not parse ("1分钟") lands here: its own message, at its line.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			key := pe.LastKey[strings.LastIndex(pe.LastKey, ".")+1:]
			return nil, schedules.Errors{{File: name, Line: pe.Position.Line, Msg: key + " 的" + pe.Message}}
		}
		return nil, schedules.Errors{{File: name, Msg: err.Error()}}
	}
	for _, k := range md.Undecoded() {
		c.Undecoded = append(c.Undecoded, k.String())
	}
	c.lines = schedules.IndexLines(string(data))
	c.defaults()
	return &c, nil
}

func (c *Config) defaults() {
	if c.Bot.Name == "" {
		c.Bot.Name = "报送机器人"
	}
	if c.Bot.DataDir == "" {
		c.Bot.DataDir = "data"
	}
	if c.Bot.MaxMediaMB == 0 {
		c.Bot.MaxMediaMB = 20
	}
	if c.Bot.ReceiptDelay.Duration == 0 {
		c.Bot.ReceiptDelay.Duration = time.Minute
	}
	if c.Bot.FollowMinutes == 0 {
		c.Bot.FollowMinutes = 10
	}
	if c.Bot.MaxMessageChars == 0 {
		c.Bot.MaxMessageChars = 1000
	}
	if c.Bot.OutboxMaxAge.Duration == 0 {
		c.Bot.OutboxMaxAge.Duration = 6 * time.Hour
	}
	if c.Reports.NotReports == nil {
		c.Reports.NotReports = DefaultNotReports
	}
	if c.Reports.MinChars == 0 {
		c.Reports.MinChars = 10
	}
}

// Check judges the domain's settings: each problem at the line of its key,
// saying what to change.
func (c *Config) Check(name string) schedules.Errors {
	var p schedules.Errors
	at := func(path, format string, args ...any) {
		p = append(p, schedules.Error{File: name, Line: c.lines.Line(path), Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.Units) == 0 {
		at("", "没有报送单位：至少写一个 [[unit]]，在它下一行写单位名称，如 name = \"东风社区\"")
	}
	if len(c.Units) > MaxUnits {
		at(fmt.Sprintf("unit[%d]", MaxUnits), "报送单位太多：写了%d个 [[unit]]，最多%d个（从这一个起是多出来的）：请删去不报送的单位", len(c.Units), MaxUnits)
	}
	seen := map[string]string{}
	for i, u := range c.Units {
		path := fmt.Sprintf("unit[%d]", i)
		if strings.TrimSpace(u.Name) == "" {
			at(path, "这个 [[unit]] 没有 name：写上单位名称，如 name = \"东风社区\"")
			continue
		}
		for j, n := range append([]string{u.Name}, u.Aliases...) {
			key := path + ".name"
			if j > 0 {
				key = path + ".aliases"
			}
			switch other, dup := seen[n]; {
			case dup && other == u.Name && j == 0:
				at(key, "单位 %q 写了两次：每个单位只写一个 [[unit]]，请删去重复的", n)
			case dup:
				at(key, "单位名称或简称 %q 同时属于 %s 和 %s：名称必须唯一，请改掉其中一个", n, other, u.Name)
			}
			seen[n] = u.Name
		}
		if len(u.Members) > MaxMembersPerUnit {
			at(path+".members", "%s 的 members 写了%d人，一个单位最多%d人：只写代表单位报送的人", u.Name, len(u.Members), MaxMembersPerUnit)
		}
	}
	members := map[string]string{}
	for i, u := range c.Units {
		for _, m := range u.Members {
			if other, dup := members[m]; dup && other != u.Name {
				at(fmt.Sprintf("unit[%d].members", i), "成员 %q 同时写在 %s 和 %s 里：一个人只能代表一个单位，请从其中一个删去", m, other, u.Name)
			}
			members[m] = u.Name
		}
	}
	if c.Bot.MaxMessageChars < 100 {
		at("bot.max_message_chars", "max_message_chars 太小：至少写 100（默认 1000）")
	}
	if c.Bot.MaxMediaMB < 0 {
		at("bot.max_media_mb", "max_media_mb 不能是负数：写上限的兆字节数，如 20")
	}
	p.Sort()
	return p
}

// MaxMedia is the media size limit in bytes.
func (c *Config) MaxMedia() int64 { return int64(c.Bot.MaxMediaMB * 1024 * 1024) }

// IsAdmin reports whether a verified identity (Member.Verified) is one of the admins.
func (c *Config) IsAdmin(verified string) bool {
	if strings.TrimSpace(verified) == "" {
		return false
	}
	for _, a := range c.Bot.Admins {
		if a == verified {
			return true
		}
	}
	return false
}

// Unit finds a unit by name or alias.
func (c *Config) Unit(name string) *Unit {
	name = strings.TrimSpace(name)
	for i, u := range c.Units {
		if u.Name == name {
			return &c.Units[i]
		}
		for _, a := range u.Aliases {
			if a == name {
				return &c.Units[i]
			}
		}
	}
	return nil
}

// unitOfDisplayName returns the one unit whose name or alias the display name
// contains. Where one unit's name holds another's ("东风社区" and "东风"),
// the longer is meant: "东风社区-小王" is of 东风社区. nil when none, or two
// units that way unrelated ("东风西湖联络员").
func (c *Config) unitOfDisplayName(display string) *Unit {
	var found *Unit
	best := ""
	var others []string
	for i, u := range c.Units {
		for _, n := range append([]string{u.Name}, u.Aliases...) {
			if n == "" || !strings.Contains(display, n) {
				continue
			}
			switch {
			case found == &c.Units[i]:
				if len(n) > len(best) {
					best = n
				}
			case len(n) > len(best):
				if found != nil {
					others = append(others, best)
				}
				found, best = &c.Units[i], n
			default:
				others = append(others, n)
			}
		}
	}
	for _, o := range others {
		if !strings.Contains(best, o) {
			return nil
		}
	}
	return found
}

// Warnings are what a config allows but will confuse: a unit's name or alias
// inside another's (members are then placed by the longer one, and a short
// nickname may be taken for the wrong unit).
func (c *Config) Warnings() []string {
	var out []string
	for i, u := range c.Units {
		for j, v := range c.Units {
			if i == j {
				continue
			}
			for _, a := range append([]string{u.Name}, u.Aliases...) {
				for _, b := range append([]string{v.Name}, v.Aliases...) {
					if a != "" && a != b && strings.Contains(b, a) {
						out = append(out, fmt.Sprintf("单位“%s”的名称或简称“%s”包含在单位“%s”的“%s”里：群昵称含“%s”的人算作%s，只含“%s”的人算作%s；请确认，或改用不互相包含的简称。",
							u.Name, a, v.Name, b, b, v.Name, a, u.Name))
					}
				}
			}
		}
	}
	return out
}

// UnitOfName is the unit a member of this display name belongs to by the
// config alone (its members lists, or a unit's name in the nickname), nil if none.
func (c *Config) UnitOfName(display string) *Unit {
	if u := c.configuredUnit(Member{Name: display}); u != nil {
		return u
	}
	return c.unitOfDisplayName(display)
}

// configuredUnit is the unit whose members list names the member, by display
// name or by platform id.
func (c *Config) configuredUnit(who Member) *Unit {
	for i, u := range c.Units {
		for _, m := range u.Members {
			if m != "" && (m == who.Name || m == who.ID) {
				return &c.Units[i]
			}
		}
	}
	return nil
}
