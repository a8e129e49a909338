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

// Config is the bot's settings file: who the units and admins are, and how
// messages are judged.
type Config struct {
	Bot     BotConfig     `toml:"bot"`
	Reports ReportsConfig `toml:"reports"`
	Units   []Unit        `toml:"unit"`
	Console ConsoleConfig `toml:"console"`
	Wechat  WechatConfig  `toml:"wechat"`
	Alert   AlertConfig   `toml:"alert"`
	Backup  BackupConfig  `toml:"backup"`
	Web     WebConfig     `toml:"web"`
}

// WebConfig is the dashboard's address.
type WebConfig struct {
	// Listen is the address it serves on ("127.0.0.1:8080"); "" turns it off.
	Listen string `toml:"listen"`
	// URL is how admins reach it, as sign-in links start: the reverse proxy's
	// https address when there is one.
	URL string `toml:"url"`
}

// BackupConfig says when the running bot copies its database.
type BackupConfig struct {
	// DailyAt is the time of the daily backup ("03:00"); "none" turns it off.
	DailyAt string `toml:"daily_at"`
	// Keep is how many backups are kept (the oldest go first).
	Keep int `toml:"keep"`
}

// DailyBackup is the minute of the day of the daily backup; ok is false when off.
func (c *Config) DailyBackup() (minute int, ok bool) {
	if c.Backup.DailyAt == "none" {
		return 0, false
	}
	var h, m int
	if _, err := fmt.Sscanf(c.Backup.DailyAt, "%d:%d", &h, &m); err != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// WechatConfig tunes the WeChat adapter (reportbot run).
type WechatConfig struct {
	// SendInterval is the least time between two messages the bot sends;
	// SendJitter is added at random; after WeChat says "too often" the interval
	// doubles, up to MaxSendInterval.
	SendInterval    Duration `toml:"send_interval"`
	SendJitter      Duration `toml:"send_jitter"`
	MaxSendInterval Duration `toml:"max_send_interval"`
	// AcceptFriends accepts friend requests from members of the group, so they
	// can ask and report privately.
	AcceptFriends bool `toml:"accept_friends"`
}

// AlertConfig is the channel that tells the admins when WeChat needs them
// (a new QR scan), which must not depend on WeChat itself.
type AlertConfig struct {
	// Webhook is a URL to POST to: a 企业微信 group robot, or any JSON endpoint.
	Webhook string `toml:"webhook"`
	// Format is "wecom" (企业微信群机器人) or "json".
	Format string `toml:"format"`
}

// BotConfig holds the general settings.
type BotConfig struct {
	// Name is the bot's name in the group, so that "@报送机器人 未报" is understood.
	Name string `toml:"name"`
	// Group is the WeChat group's exact name.
	Group string `toml:"group"`
	// DataDir holds the database and exports.
	DataDir string `toml:"data_dir"`
	// Schedule is the schedule file's path, relative to the config file.
	Schedule string `toml:"schedule"`
	// Admins are the remark names (备注名) the bot account gave the admins.
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
	// Members are group display names of the people who report for it.
	Members []string `toml:"members"`
}

// ConsoleConfig holds what the console demo needs instead of a phone.
type ConsoleConfig struct {
	// Remarks maps a display name to the remark name the bot account gave that
	// contact, as WeChat's contact list would.
	Remarks map[string]string `toml:"remarks"`
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
	var problems []string
	for _, k := range md.Undecoded() {
		problems = append(problems, fmt.Sprintf("%s: 不认识的设置项 %q：检查拼写（见 config.example.toml）", name, k.String()))
	}
	c.defaults()
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
	if c.Wechat.SendInterval.Duration == 0 {
		c.Wechat.SendInterval.Duration = 1500 * time.Millisecond
	}
	if c.Wechat.SendJitter.Duration == 0 {
		c.Wechat.SendJitter.Duration = time.Second
	}
	if c.Wechat.MaxSendInterval.Duration == 0 {
		c.Wechat.MaxSendInterval.Duration = time.Minute
	}
	if c.Alert.Format == "" {
		c.Alert.Format = "wecom"
	}
	if c.Backup.DailyAt == "" {
		c.Backup.DailyAt = "03:00"
	}
	if c.Backup.Keep == 0 {
		c.Backup.Keep = 7
	}
	if c.Web.URL == "" && c.Web.Listen != "" {
		c.Web.URL = "http://" + c.Web.Listen
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
	if c.Wechat.SendInterval.Duration < time.Second {
		p = append(p, name+": [wechat] send_interval 至少 \"1s\"：发得太快微信会限制甚至封号")
	}
	if _, ok := c.DailyBackup(); !ok && c.Backup.DailyAt != "none" {
		p = append(p, fmt.Sprintf("%s: [backup] daily_at = %q：写成 \"03:00\" 这样的时间，不要每日备份写 \"none\"", name, c.Backup.DailyAt))
	}
	if c.Backup.Keep < 1 {
		p = append(p, name+": [backup] keep 至少为1")
	}
	if c.Alert.Format != "wecom" && c.Alert.Format != "json" {
		p = append(p, fmt.Sprintf("%s: [alert] format = %q：写 \"wecom\"（企业微信群机器人）或 \"json\"", name, c.Alert.Format))
	}
	return p
}

// MaxMedia is the media size limit in bytes.
func (c *Config) MaxMedia() int64 { return int64(c.Bot.MaxMediaMB * 1024 * 1024) }

// IsAdmin reports whether a contact's remark name is one of the admins.
func (c *Config) IsAdmin(remark string) bool {
	if strings.TrimSpace(remark) == "" {
		return false
	}
	for _, a := range c.Bot.Admins {
		if a == remark {
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
// contains ("东风社区-张三"), or nil when none or several do.
func (c *Config) unitOfDisplayName(display string) *Unit {
	var found *Unit
	for i, u := range c.Units {
		for _, n := range append([]string{u.Name}, u.Aliases...) {
			if n != "" && strings.Contains(display, n) {
				if found != nil && found != &c.Units[i] {
					return nil
				}
				found = &c.Units[i]
				break
			}
		}
	}
	return found
}

// configuredUnit is the unit whose members list names the display name.
func (c *Config) configuredUnit(display string) *Unit {
	for i, u := range c.Units {
		for _, m := range u.Members {
			if m == display {
				return &c.Units[i]
			}
		}
	}
	return nil
}

// IsReport reports whether a text carries content: not an acknowledgement, not a
// question, and at least MinChars characters of words.
func (c *Config) IsReport(text string) bool {
	words := contentRunes(text)
	if len(words) == 0 {
		return false
	}
	trimmed := strings.TrimSpace(text)
	if strings.HasSuffix(trimmed, "?") || strings.HasSuffix(trimmed, "？") {
		return false
	}
	w := strings.ToLower(string(words))
	rest := w
	for _, n := range c.Reports.NotReports {
		ack := strings.ToLower(string(contentRunes(n)))
		if w == ack {
			return false
		}
		if ack != "" && strings.HasPrefix(w, ack) && len(ack) > len(w)-len(rest) {
			rest = w[len(ack):]
		}
	}
	// "收到，我们马上组织学习" acknowledges and promises; it is not the report.
	// After an acknowledgement, only a text of some length is.
	if rest != w {
		return len([]rune(rest)) >= 2*c.Reports.MinChars
	}
	return len(words) >= c.Reports.MinChars
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
