package wechat

import (
	"time"

	"reportbot/bot"
)

// Config is the config file's [wechat] section.
type Config struct {
	// Group is the group's exact name. Older config files write it as [bot] group,
	// which the wiring passes here.
	Group string `toml:"group"`
	// SendInterval is the least time between two messages the bot sends;
	// SendJitter is added at random; after WeChat says "too often" the interval
	// doubles, up to MaxSendInterval.
	SendInterval    bot.Duration `toml:"send_interval"`
	SendJitter      bot.Duration `toml:"send_jitter"`
	MaxSendInterval bot.Duration `toml:"max_send_interval"`
	// AcceptFriends accepts friend requests from members of the group, so they
	// can ask and report privately.
	AcceptFriends bool `toml:"accept_friends"`
}

// Check fills in defaults and lists what is wrong, each line starting with name.
func (c *Config) Check(name string) []string {
	if c.SendInterval.Duration == 0 {
		c.SendInterval.Duration = 1500 * time.Millisecond
	}
	if c.SendJitter.Duration == 0 {
		c.SendJitter.Duration = time.Second
	}
	if c.MaxSendInterval.Duration == 0 {
		c.MaxSendInterval.Duration = time.Minute
	}
	var p []string
	if c.SendInterval.Duration < time.Second {
		p = append(p, name+": [wechat] send_interval 至少 \"1s\"：发得太快微信会限制甚至封号")
	}
	return p
}
