package alert

import "fmt"

// Config is the config file's [alert] section.
type Config struct {
	// Webhook is a URL to POST to: a 企业微信 group robot, or any JSON endpoint.
	Webhook string `toml:"webhook"`
	// Format is "wecom" (企业微信群机器人) or "json".
	Format string `toml:"format"`
}

// Check fills in defaults and lists what is wrong, each line starting with name.
func (c *Config) Check(name string) []string {
	if c.Format == "" {
		c.Format = WeCom
	}
	if c.Format != WeCom && c.Format != JSON {
		return []string{fmt.Sprintf("%s: [alert] format = %q：写 \"wecom\"（企业微信群机器人）或 \"json\"", name, c.Format)}
	}
	return nil
}

// Alerter is the configured channel, or nil when none is.
func (c Config) Alerter() *Webhook {
	if c.Webhook == "" {
		return nil
	}
	return &Webhook{URL: c.Webhook, Format: c.Format}
}
