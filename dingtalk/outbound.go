package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"reportbot/bot"
)

// errNoGroup holds group messages in the outbox until the group is known;
// private answers and the admins' notices go on meanwhile.
var errNoGroup = errors.New("the group's openConversationId is not known yet")

// noGroupNotice tells the admins, once, why nothing goes to the group yet.
const noGroupNotice = "【reportbot】机器人还不知道是哪个钉钉群：请在群里@机器人说一句话（如“@报送机器人 任务”），" +
	"或在设置文件 [dingtalk] 里写上 conversation_id。在这之前，要发到群里的提醒、点名都先留着，知道群以后按顺序补发。"

// Deliver implements bot.Transport. Each kind of message takes the route that
// serves it best on 钉钉:
//   - answers and receipts for the group: the freshest sessionWebhook while it is
//     valid (a real @), else the 自定义机器人 (a real @) when configured, else the
//     group send API, naming people in the text;
//   - reminders and announcements: the group send API (it cannot @ anyone);
//   - nudges and roll-calls: the 自定义机器人 when configured (real @, 20 a
//     minute), else the group send API with names;
//   - a member: their 1:1 sessionWebhook while valid, else the 1:1 send API;
//     files: uploaded, then sent 1:1 (a webhook cannot carry files);
//   - the admins: 1:1 to each admin's staffId, else the alert webhook.
//
// begin is called once, right before the first request that may deliver the
// message; a route the platform answered "expired" on delivered nothing, so
// the next route is tried in the same call. From begin on, a stop no longer
// cuts the request short (the HTTP client's timeout bounds it): a send cut
// mid-way could not be known to have arrived or not.
func (a *Adapter) Deliver(ctx context.Context, m bot.Outgoing, begin func() error) error {
	switch {
	case m.ToAdmins:
		return a.toAdmins(ctx, m, begin)
	case m.File != "":
		return a.sendFile(ctx, m, begin)
	case !m.To.IsZero():
		return a.toMember(ctx, m, begin)
	}
	switch m.Purpose {
	case bot.Answer, bot.Receipt:
		if hook := a.hook(""); hook != nil {
			text, ids := a.renderAt(m)
			if err := begin(); err != nil {
				return err
			}
			err := SessionReply(context.WithoutCancel(ctx), a.o.HTTP, hook.SessionWebhook, text, ids)
			if !errors.Is(err, ErrSessionExpired) {
				return err
			}
			a.dropHook("")
			return a.groupWithAt(ctx, m, nil)
		}
		return a.groupWithAt(ctx, m, begin)
	case bot.Nudge, bot.Rollcall:
		return a.groupWithAt(ctx, m, begin)
	default:
		return a.group(ctx, Text(m.Text), begin)
	}
}

// groupWithAt sends through the 自定义机器人 where there is one, so that the
// @s notify people; else through the group send API, names in the text.
// begin is nil when it was called already.
func (a *Adapter) groupWithAt(ctx context.Context, m bot.Outgoing, begin func() error) error {
	if a.robot == nil {
		return a.group(ctx, Text(m.Text), begin)
	}
	text, ids := a.renderAt(m)
	if begin != nil {
		// The robot's own rate limit answers before anything leaves: check it
		// first, so that a message waiting for a slot is not marked sending.
		if wait := a.robot.Wait(); wait > 0 {
			return bot.Retryable(errors.New("自定义机器人每分钟最多20条"), wait)
		}
		if err := begin(); err != nil {
			return err
		}
	}
	return a.robot.Send(context.WithoutCancel(ctx), text, ids)
}

// group sends through the group send API.
func (a *Adapter) group(ctx context.Context, msg Msg, begin func() error) error {
	conv := a.conversation()
	if conv == "" {
		a.tellNoGroup(ctx)
		return bot.Held(errNoGroup, 10*time.Minute)
	}
	if begin != nil {
		if err := begin(); err != nil {
			return err
		}
	}
	return a.api.SendGroup(context.WithoutCancel(ctx), conv, msg)
}

func (a *Adapter) toMember(ctx context.Context, m bot.Outgoing, begin func() error) error {
	staff := a.userID(m.To)
	if staff == "" {
		// Not someone the platform can address 1:1: answered in the group, by name.
		m.Text = "@" + m.To.String() + " " + m.Text
		m.To = bot.Member{}
		return a.group(ctx, Text(m.Text), begin)
	}
	if err := begin(); err != nil {
		return err
	}
	if hook := a.hook(staff); hook != nil {
		err := SessionReply(context.WithoutCancel(ctx), a.o.HTTP, hook.SessionWebhook, m.Text, nil)
		if !errors.Is(err, ErrSessionExpired) {
			return err
		}
		a.dropHook(staff)
	}
	return a.api.SendPrivate(context.WithoutCancel(ctx), []string{staff}, Text(m.Text))
}

// sendFile uploads the file, then sends it 1:1 (or to the group, for a file
// without a recipient).
func (a *Adapter) sendFile(ctx context.Context, m bot.Outgoing, begin func() error) error {
	staff := a.userID(m.To)
	if !m.To.IsZero() && staff == "" {
		return bot.Refused(errors.New(m.To.String() + " 没有钉钉账号（staffId），文件只能私聊发给本组织的成员"))
	}
	if m.To.IsZero() && a.conversation() == "" {
		a.tellNoGroup(ctx)
		return bot.Held(errNoGroup, 10*time.Minute)
	}
	// The upload delivers nothing to anyone: begin waits for the send.
	id, err := a.api.Upload(ctx, m.File)
	if err != nil {
		return err
	}
	msg := File(id, filepath.Base(m.File))
	if err := begin(); err != nil {
		return err
	}
	if staff == "" {
		return a.api.SendGroup(context.WithoutCancel(ctx), a.conversation(), msg)
	}
	return a.api.SendPrivate(context.WithoutCancel(ctx), []string{staff}, msg)
}

func (a *Adapter) toAdmins(ctx context.Context, m bot.Outgoing, begin func() error) error {
	ids := a.adminIDs()
	if err := begin(); err != nil {
		return err
	}
	text := m.Text
	if m.File != "" {
		text = "【reportbot】" + filepath.Base(m.File)
	}
	if len(ids) == 0 {
		// No admin written as a staffId: the alert webhook is the only way to them.
		if a.o.Alert == nil {
			a.o.Logger.Warn().Msg("a message for the admins has nowhere to go: write the admins' staffIds in [bot] admins, or set [alert] webhook")
			return nil
		}
		return a.o.Alert.Alert(context.WithoutCancel(ctx), text)
	}
	return a.api.SendPrivate(context.WithoutCancel(ctx), ids, Text(text))
}

// adminIDs are the admins written as staffIds: the ones 钉钉 can reach 1:1.
func (a *Adapter) adminIDs() []string {
	var ids []string
	for _, admin := range a.o.Admins {
		if isStaffID(admin) {
			ids = append(ids, admin)
		}
	}
	return ids
}

// tellNoGroup tells the admins once that the group is not known yet.
func (a *Adapter) tellNoGroup(ctx context.Context) {
	a.mu.Lock()
	told := a.told
	a.told = true
	a.mu.Unlock()
	if told {
		return
	}
	a.o.Logger.Warn().Msg("group messages wait: the group's conversation id is not known yet")
	ids := a.adminIDs()
	if len(ids) > 0 {
		if err := a.api.SendPrivate(ctx, ids, Text(noGroupNotice)); err == nil {
			return
		}
	}
	if a.o.Alert != nil {
		if err := a.o.Alert.Alert(context.WithoutCancel(ctx), noGroupNotice); err != nil {
			a.o.Logger.Error().Err(err).Msg("tell the admins the group is not known")
		}
	}
}

func (a *Adapter) conversation() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conv
}

// hook is the freshest sessionWebhook of the group ("") or of a member's 1:1
// chat, if it is still valid.
func (a *Adapter) hook(key string) *callback {
	a.mu.Lock()
	defer a.mu.Unlock()
	cb := a.hooks[key]
	if cb == nil || !cb.webhookValid(a.o.Now()) {
		return nil
	}
	return cb
}

func (a *Adapter) dropHook(key string) {
	a.mu.Lock()
	delete(a.hooks, key)
	a.mu.Unlock()
}

// renderAt writes the message's mentions the way 钉钉 shows a real @: the
// text says "@staffId" (the client shows the nick) and at.atUserIds lists
// them. Members without a known staffId stay as names.
func (a *Adapter) renderAt(m bot.Outgoing) (string, []string) {
	text := m.Text
	mentions := append([]bot.Member(nil), m.Mentions...)
	// Longest names first, and each written name set aside before the next is
	// looked for, so that "@张三丰" is never taken for "@张三" (whether or not
	// 张三丰 has a staffId).
	sort.SliceStable(mentions, func(i, j int) bool { return len(mentions[i].Name) > len(mentions[j].Name) })
	var ids, addressees []string
	var written []struct{ token, out string }
	seen := map[string]bool{}
	for i, who := range mentions {
		id := a.userID(who)
		at := "@" + who.Name
		if who.Name != "" && strings.Contains(text, at) {
			token := fmt.Sprintf("\x00%d\x00", i)
			text = strings.ReplaceAll(text, at, token)
			out := at
			if id != "" {
				out = "@" + id
			}
			written = append(written, struct{ token, out string }{token, out})
		} else if id != "" && !seen[id] {
			addressees = append(addressees, "@"+id) // as 钉钉 shows a reply to someone
		}
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, w := range written {
		text = strings.ReplaceAll(text, w.token, w.out)
	}
	if len(addressees) > 0 {
		text = strings.Join(addressees, " ") + " " + text
	}
	return text, ids
}

// userID is the staffId to address a member by, or "" when none is known: a
// member bound on 钉钉 carries it as their id; one the config names by name is
// looked up among the senders seen so far.
func (a *Adapter) userID(who bot.Member) string {
	if who.IsZero() {
		return ""
	}
	if isStaffID(who.Verified) {
		return who.Verified
	}
	if who.ID != "" && who.ID != who.Name && isStaffID(who.ID) {
		return who.ID
	}
	if a.o.State != nil && who.Name != "" {
		if id, err := a.o.State.Get(stateStaffPrefix + who.Name); err == nil && id != "" {
			return id
		}
	}
	if isStaffID(who.ID) {
		return who.ID // the config wrote a staffId
	}
	return ""
}

// isStaffID reports whether s looks like an org userid (letters, digits, - _)
// rather than a person's name.
func isStaffID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
