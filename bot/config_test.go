package bot

import (
	"strings"
	"testing"
)

const nestedUnits = `
[bot]
admins = ["王科长"]

[[unit]]
name = "东风"

[[unit]]
name = "东风社区"
members = ["联络员小周"]

[[unit]]
name = "西湖社区"
aliases = ["西湖"]
`

// A nickname is placed by the longest unit name it holds; two unrelated
// names leave it unplaced; check warns of names inside names.
func TestUnitsByNickname(t *testing.T) {
	c, err := ParseConfig("config.toml", []byte(nestedUnits))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ nick, want string }{
		{"东风社区-小王", "东风社区"},
		{"东风-小李", "东风"},
		{"西湖社区李四", "西湖社区"},
		{"西湖-小刘", "西湖社区"},
		{"东风西湖联络员", ""},
		{"东风社区西湖社区联络员", ""},
		{"路人甲", ""},
	} {
		t.Run(tt.nick, func(t *testing.T) {
			got := ""
			if u := c.unitOfDisplayName(tt.nick); u != nil {
				got = u.Name
			}
			if got != tt.want {
				t.Errorf("%s: %q, want %q", tt.nick, got, tt.want)
			}
		})
	}
	w := strings.Join(c.Warnings(), "\n")
	if n := len(c.Warnings()); n != 1 {
		t.Errorf("%d warnings, want 1 (a unit's own alias is no warning):\n%s", n, w)
	}
	for _, want := range []string{"单位“东风”的名称或简称“东风”包含在单位“东风社区”的“东风社区”里：群昵称含“东风社区”的人算作东风社区，只含“东风”的人算作东风"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
}
