// Package wecom connects the bot to a 企业微信 group through a 智能机器人 in
// API mode with a long connection (an outbound WebSocket of our own client:
// no public URL and no official Go SDK), and the group's 群机器人 webhook,
// the only way a proactive message can really @ people there.
package wecom

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// 企业微信's hosts, which the config defaults to; government variants run the
// same APIs on their own.
const (
	DefaultWSURL   = "wss://openws.work.weixin.qq.com"
	DefaultAPIHost = "https://qyapi.weixin.qq.com"
)

// SecretEnv is the environment variable that may hold the robot's secret, so
// that the config file need not.
const SecretEnv = "REPORTBOT_WECOM_SECRET"

// Config is the config file's [wecom] section.
type Config struct {
	// BotID and Secret are the 智能机器人's BotID and long-connection Secret.
	BotID  string `toml:"bot_id"`
	Secret string `toml:"secret"`
	// ChatID is the group's chatid; learned from the first message that @s
	// the robot there when empty.
	ChatID string `toml:"chatid"`
	// WebhookKey is the key of the group's 群机器人 (消息推送): the only way to
	// really @ people, and the way scheduled messages go when the tenant
	// refuses proactive group pushes.
	WebhookKey string `toml:"webhook_key"`
	// WSURL and APIHost replace 企业微信's hosts (tests, private deployments).
	WSURL   string `toml:"ws_url"`
	APIHost string `toml:"api_host"`
}

// Check fills in defaults (the secret from SecretEnv when the file has none)
// and lists what is wrong, each line starting with name and the section and
// key it is about. It needs no network.
func (c *Config) Check(name string) []string {
	if c.Secret == "" {
		c.Secret = os.Getenv(SecretEnv)
	}
	if c.WSURL == "" {
		c.WSURL = DefaultWSURL
	}
	if c.APIHost == "" {
		c.APIHost = DefaultAPIHost
	}
	var p []string
	if strings.TrimSpace(c.BotID) == "" {
		p = append(p, name+": [wecom] 没有 bot_id：写智能机器人的 BotID，在企业微信管理后台“智能机器人”→机器人详情→“API 模式（长连接）”里")
	}
	if c.Secret == "" {
		p = append(p, fmt.Sprintf("%s: [wecom] 没有 secret：写智能机器人长连接的 Secret，或放在环境变量 %s 里（更安全）", name, SecretEnv))
	}
	if v, err := url.Parse(c.WSURL); err != nil || (v.Scheme != "wss" && v.Scheme != "ws") || v.Host == "" {
		p = append(p, fmt.Sprintf("%s: [wecom] ws_url = %q 不是长连接地址：写成 wss://… 或删掉这一行用默认值 %s", name, c.WSURL, DefaultWSURL))
	}
	if v, err := url.Parse(c.APIHost); err != nil || (v.Scheme != "https" && v.Scheme != "http") || v.Host == "" || (v.Path != "" && v.Path != "/") {
		p = append(p, fmt.Sprintf("%s: [wecom] api_host = %q 不是网址：写成 https://主机名（不带路径），或删掉这一行用默认值 %s", name, c.APIHost, DefaultAPIHost))
	}
	if k := c.WebhookKey; k != "" && (strings.ContainsAny(k, "/?=&: ") || len(k) < 8) {
		p = append(p, name+": [wecom] webhook_key 只写 key：群机器人地址 …/webhook/send?key= 后面的那一串（形如 693a91f6-7xxx-…），不要写整个网址")
	}
	if strings.ContainsAny(c.ChatID, " /") {
		p = append(p, fmt.Sprintf("%s: [wecom] chatid = %q 不对：写群回调里的 chatid（wr 开头的一串），不知道就删掉这一行，让机器人从群里第一次@它时学会", name, c.ChatID))
	}
	return p
}
