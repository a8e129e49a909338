package bot

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
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

// ParseConfig reads a config file's contents; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", name, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, k := range md.Undecoded() {
		c.Undecoded = append(c.Undecoded, k.String())
	}
	c.defaults()
	var problems []string
	problems = append(problems, c.validate(name)...)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
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

func (c *Config) validate(name string) []string {
	var p []string
	if len(c.Units) == 0 {
		p = append(p, name+": 没有报送单位：至少写一个 [[unit]]，如 name = \"东风社区\"")
	}
	seen := map[string]string{}
	for _, u := range c.Units {
		if strings.TrimSpace(u.Name) == "" {
			p = append(p, name+": 有一个 [[unit]] 没有 name")
			continue
		}
		for _, n := range append([]string{u.Name}, u.Aliases...) {
			if other, dup := seen[n]; dup {
				p = append(p, fmt.Sprintf("%s: 单位名称或简称 %q 同时属于 %s 和 %s：名称必须唯一", name, n, other, u.Name))
			}
			seen[n] = u.Name
		}
	}
	members := map[string]string{}
	for _, u := range c.Units {
		for _, m := range u.Members {
			if other, dup := members[m]; dup && other != u.Name {
				p = append(p, fmt.Sprintf("%s: 成员 %q 同时写在 %s 和 %s 里：一个人只能代表一个单位", name, m, other, u.Name))
			}
			members[m] = u.Name
		}
	}
	if c.Bot.MaxMessageChars < 100 {
		p = append(p, name+": max_message_chars 太小：至少100")
	}
	if c.Bot.MaxMediaMB < 0 {
		p = append(p, name+": max_media_mb 不能是负数")
	}
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

// contentRunes keeps letters and digits: Han characters, Latin words, numbers.
func contentRunes(s string) []rune {
	var out []rune
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, r)
		}
	}
	return out
}
