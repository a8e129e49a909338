// Package dingtalk connects the bot to a 钉钉 group through an enterprise
// internal app's robot in Stream mode (an outbound WebSocket: no public URL),
// with a small REST client of ours for what the Stream SDK lacks: the access
// token, file downloads, proactive group and 1:1 sends, media upload, and the
// 自定义机器人 webhook that can really @ people.
package dingtalk

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// 钉钉's hosts, which the config and the REST client default to.
const (
	DefaultAPIURL  = "https://api.dingtalk.com"
	DefaultOapiURL = "https://oapi.dingtalk.com"
)

// SecretEnv is the environment variable that may hold the app's client secret,
// so that the config file need not.
const SecretEnv = "REPORTBOT_DINGTALK_SECRET"

// Config is the config file's [dingtalk] section.
type Config struct {
	// ClientID and ClientSecret are the 企业内部应用's AppKey and AppSecret.
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	// RobotCode is the robot's code; the app's ClientID when empty.
	RobotCode string `toml:"robot_code"`
	// ConversationID is the group's openConversationId; learned from the first
	// message that @s the robot there when empty.
	ConversationID string `toml:"conversation_id"`
	// Webhook and WebhookSecret are the group's 自定义机器人 with 加签, the only
	// way a proactive message (a nudge, a roll-call) can really @ people.
	Webhook       string `toml:"webhook"`
	WebhookSecret string `toml:"webhook_secret"`
	// APIURL, OapiURL and GatewayURL replace 钉钉's hosts (tests, private deployments).
	APIURL     string `toml:"api_url"`
	OapiURL    string `toml:"oapi_url"`
	GatewayURL string `toml:"gateway_url"`
}

// Check fills in defaults (the secret from SecretEnv when the file has none)
// and lists what is wrong, each line starting with name. It needs no network.
func (c *Config) Check(name string) []string {
	if c.ClientSecret == "" {
		c.ClientSecret = os.Getenv(SecretEnv)
	}
	if c.RobotCode == "" {
		c.RobotCode = c.ClientID
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.OapiURL == "" {
		c.OapiURL = DefaultOapiURL
	}
	if c.GatewayURL == "" {
		c.GatewayURL = c.APIURL
	}
	var p []string
	if c.ClientID == "" {
		p = append(p, name+": [dingtalk] 没有 client_id：写企业内部应用的 Client ID（原 AppKey），在钉钉开发者后台“凭证与基础信息”里")
	}
	if c.ClientSecret == "" {
		p = append(p, fmt.Sprintf("%s: [dingtalk] 没有 client_secret：写在设置文件里，或放在环境变量 %s 里（更安全）", name, SecretEnv))
	}
	for _, u := range []struct{ key, value string }{{"api_url", c.APIURL}, {"oapi_url", c.OapiURL}, {"gateway_url", c.GatewayURL}} {
		if v, err := url.Parse(u.value); err != nil || (v.Scheme != "https" && v.Scheme != "http") || v.Host == "" {
			p = append(p, fmt.Sprintf("%s: [dingtalk] %s = %q 不是网址：写成 https://… 或删掉这一行用默认值", name, u.key, u.value))
		}
	}
	if c.Webhook != "" {
		v, err := url.Parse(c.Webhook)
		switch {
		case err != nil || v.Host == "" || v.Query().Get("access_token") == "":
			p = append(p, name+": [dingtalk] webhook 不对：复制自定义机器人的完整 Webhook 地址（https://oapi.dingtalk.com/robot/send?access_token=…）")
		case c.WebhookSecret == "":
			p = append(p, name+": [dingtalk] 有 webhook 但没有 webhook_secret：自定义机器人的安全设置选“加签”，把 SEC 开头的密钥写在这里")
		}
	}
	if c.WebhookSecret != "" && !strings.HasPrefix(c.WebhookSecret, "SEC") {
		p = append(p, name+": [dingtalk] webhook_secret 应以 SEC 开头：复制自定义机器人“加签”处的密钥")
	}
	return p
}
