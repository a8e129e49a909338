// Package redact takes secrets out of text that is about to be logged or
// shown: error texts quote URLs, request bodies, JSON answers and headers, and
// whoever reads a log must not be able to act as the bot with what it holds.
// It knows the shapes secrets come in, not where a text came from, so one
// filter serves the log writer and every adapter.
package redact

import "regexp"

// sep is what stands between a secret's name and its value: = in a URL or a
// header, a colon in JSON (quoted, or quoted inside an already-quoted error
// text, where the quotes are escaped) or YAML, > in XML.
const sep = `(\\*["']?\s*[:=]\s*\\*["']?|>)`

// value runs to the next delimiter of any of those shapes.
const value = `[^&\s"'<>\\,;}\]]+`

var rules = []struct {
	re   *regexp.Regexp
	with string
}{
	// Named secrets: web WeChat's session keys, tokens, signatures, the
	// 钉钉 client and robot secrets, a 企业微信 secret and any REPORTBOT_…
	// secret from the environment, in any case and quote style.
	{regexp.MustCompile(`(?i)\b(sid|skey|pass_ticket|ticket|uin|wxuin|wxsid|webwx_data_ticket|webwx_auth_ticket|deviceid|synckey|` +
		`(?:access|refresh|auth)[-_]?token|token|app[-_]?secret|client[-_]?secret|corp[-_]?secret|webhook[-_]?secret|robot[-_]?secret|secret|` +
		`sign|signature|password|passwd|session|reportbot_\w*(?:secret|token|password))` + sep + value), "$1$2…"},
	// A webhook's key travels in its URL's query (企业微信 robots: ?key=…);
	// only there, since "key" names other things in our own logs.
	{regexp.MustCompile(`(?i)([?&](?:key|webhook_key)=)` + value), "$1…"},
	// Some robots carry the token in the path instead (…/hook/<token>).
	{regexp.MustCompile(`(?i)(/hook/)[^/?#\s"'\\]+`), "$1…"},
	// A cookie header holds every session cookie at once, whatever their names.
	{regexp.MustCompile(`(?i)\b((?:set-)?cookie` + sep + `)\[?[^"\r\n\\\]]+`), "$1…"},
	// Authorization: Bearer <token>, Basic <credentials>.
	{regexp.MustCompile(`(?i)\b(authorization` + sep + `(?:(?:bearer|basic|token)\s+)?)` + value), "$1…"},
}

// String returns s with every secret value it can find replaced by "…"; the
// names stay, so that a line still says what was there.
func String(s string) string {
	for _, r := range rules {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// Bytes is String for a log line.
func Bytes(p []byte) []byte {
	for _, r := range rules {
		p = r.re.ReplaceAll(p, []byte(r.with))
	}
	return p
}
