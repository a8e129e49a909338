package bot

import (
	"context"
	"strings"

	"reportbot/schedules"
)

// WaitsForEarlier implements Orderer: a command (a question such as 谁没报 or
// 进度, or an admin's 标记 or 导出) waits for every message received before
// it, so that its answer counts a report sent a moment earlier by someone
// else. Reports do not wait: members' messages are handled side by side.
func (b *Bot) WaitsForEarlier(m Message) bool {
	if m.Kind != schedules.Text || m.Recalls != "" {
		return false
	}
	c, ok := ParseCommand(b.stripMention(&m)) // m is a copy: the caller's is left as it was
	return ok && c.Name != ""
}

// Roster implements RosterHandler. The admins hear which members the config
// names that the group does not have (matched by group display name, user id
// or remark name, as reports are), once for each different set; nudges and
// roll-calls stop @-mentioning them, since an @ of nobody reaches nobody.
func (b *Bot) Roster(ctx context.Context, present []Member) {
	in := map[string]bool{}
	for _, m := range present {
		for _, name := range []string{m.Name, m.ID, m.Verified} {
			if name != "" {
				in[name] = true
			}
		}
	}
	absent := map[string]bool{}
	var lines []string
	for _, u := range b.Config.Units {
		var missing []string
		for _, name := range u.Members {
			if name != "" && !in[name] && !absent[name] {
				absent[name] = true
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			lines = append(lines, u.Name+"："+strings.Join(missing, "、"))
		}
	}
	set := strings.Join(lines, "\n")
	b.mu.Lock()
	b.absent = absent
	told := set == b.absentTold
	b.absentTold = set
	b.mu.Unlock()
	b.Logger.Info().Int("present", len(present)).Int("absent", len(absent)).Msg("group members listed")
	if told || set == "" {
		return
	}
	text := "【reportbot】设置文件里的这些成员在群里找不到：\n" + set +
		"\n催报和点名时不再@他们（只写单位名）。请核对设置文件 [[unit]] 的 members 是否与他们在群里显示的名字完全一致，或请他们入群。"
	if err := b.TellAdmins(ctx, text); err != nil {
		b.Logger.Error().Err(err).Msg("tell the admins about members not in the group")
	}
}

// inGroup reports whether an @mention of who can reach them: false only for
// a member the platform's member list lacks (see Roster).
func (b *Bot) inGroup(who Member) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.absent[who.Name] && !b.absent[who.ID]
}
