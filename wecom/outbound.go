package wecom

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"reportbot/bot"
)

// errNoGroup holds group messages in the outbox until the group is known;
// private answers and the admins' notices go on meanwhile.
var errNoGroup = errors.New("the group's chatid is not known yet")

// errPushRefused holds scheduled messages when the tenant refuses proactive
// group pushes and no webhook is configured.
var errPushRefused = errors.New("the tenant refuses proactive group pushes and there is no webhook_key")

const (
	noGroupNotice = "【reportbot】机器人还不知道是哪个企业微信群：请在群里@机器人说一句话（如“@报送机器人 任务”），" +
		"或在设置文件 [wecom] 里写上 chatid。在这之前，要发到群里的提醒、点名都先留着，知道群以后按顺序补发。"
	pushRefusedHookNotice = "【reportbot】企业微信不让智能机器人主动往群里发消息（提醒、点名被拒）。已改用群机器人（[wecom] webhook_key）发，" +
		"以后的定时消息都走群机器人；@机器人的回执和回答照旧由智能机器人回复。"
	pushRefusedNotice = "【reportbot】企业微信不让智能机器人主动往群里发消息（提醒、点名被拒），这些消息先留着。" +
		"请在群里添加一个群机器人（群设置→消息推送→添加），把它地址里 key= 后面的一串写到设置文件 [wecom] webhook_key，然后重启，留着的消息会按顺序补发。"
)

// markdown is the body of a markdown message to chat.
func markdown(text string) map[string]any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": text}}
}

// Deliver implements bot.Transport. Each kind of message takes the route that
// serves it best on 企业微信:
//   - answers and receipts for the group: a markdown reply to the freshest
//     group callback of the addressee (else of anyone) on this connection,
//     else a push to the group;
//   - reminders and announcements: a push to the group (aibot_send_msg),
//     or the webhook once the tenant refused such a push;
//   - nudges and roll-calls: the webhook with mentioned_list (the only real
//     @) when configured, else a push, names in the text;
//   - a member: a reply to their last 1:1 message, else a 1:1 push; files are
//     uploaded over the connection and pushed 1:1;
//   - the admins: 1:1 pushes to each admin's userid, else the alert webhook.
//
// A reply whose req_id came on an earlier connection is never attempted (the
// server answers 846605): the message takes the push instead, in the same
// call. begin is called once, right before the first request that may
// deliver the message. The bot's 30 a minute and 1000 an hour per
// conversation, and the webhook's 20 a minute, are checked before begin: a
// message over them waits for its slot.
func (a *Adapter) Deliver(ctx context.Context, m bot.Outgoing, begin func() error) error {
	b := &beginOnce{f: begin}
	switch {
	case m.ToAdmins:
		return a.toAdmins(ctx, m, b)
	case m.File != "":
		return a.sendFile(ctx, m, b)
	case !m.To.IsZero():
		return a.toMember(ctx, m, b)
	}
	switch m.Purpose {
	case bot.Answer, bot.Receipt:
		cb := a.replyTo(m)
		if cb != nil {
			err := a.reply(ctx, cb, m.Text, b)
			if !errors.Is(err, errStaleReqID) {
				return err
			}
			a.forget(cb)
		}
		return a.pushGroup(ctx, m, b)
	case bot.Nudge, bot.Rollcall:
		if a.hook != nil {
			return a.viaWebhook(ctx, m, b)
		}
		return a.pushGroup(ctx, m, b)
	default:
		return a.pushGroup(ctx, m, b)
	}
}

// beginOnce calls begin at most once, so that a route that delivered
// nothing can hand the message to the next in the same call.
type beginOnce struct {
	f    func() error
	done bool
}

func (b *beginOnce) call() error {
	if b.done {
		return nil
	}
	b.done = true
	return b.f()
}

// replyTo is the callback an answer or receipt for the group replies to.
func (a *Adapter) replyTo(m bot.Outgoing) *callback {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, who := range m.Mentions {
		if cb := a.last["g:"+a.userIDLocked(who)]; cb != nil && a.fresh(cb) {
			return cb
		}
	}
	if cb := a.last[""]; cb != nil && a.fresh(cb) {
		return cb
	}
	return nil
}

// fresh reports whether cb may still be replied to. Called with mu held.
func (a *Adapter) fresh(cb *callback) bool {
	return cb.session == a.client.Session() && a.o.Now().Before(cb.received.Add(replyWindow-time.Minute))
}

func (a *Adapter) forget(cb *callback) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, v := range a.last {
		if v == cb {
			delete(a.last, k)
		}
	}
}

// reply answers cb with a markdown text.
func (a *Adapter) reply(ctx context.Context, cb *callback, text string, b *beginOnce) error {
	if cb.session != a.client.Session() {
		return bot.Retryable(errStaleReqID, 0) // nothing leaves: the caller pushes instead
	}
	if d := a.limit.wait(cb.chat(), a.o.Now()); d > 0 {
		return bot.Retryable(errors.New("企业微信每个会话每分钟最多30条、每小时1000条"), d)
	}
	if err := b.call(); err != nil {
		return err
	}
	a.limit.take(cb.chat(), a.o.Now())
	ans, err := a.client.Reply(context.WithoutCancel(ctx), cb.session, cb.reqID, markdown(text))
	if err != nil {
		return err
	}
	return codeError("aibot_respond_msg", ans.Errcode, ans.Errmsg)
}

// push sends body to a chat (a group's chatid, chatType 2, or a userid, 1).
func (a *Adapter) push(ctx context.Context, chat string, chatType int, body map[string]any, b *beginOnce) error {
	if d := a.limit.wait(chat, a.o.Now()); d > 0 {
		return bot.Retryable(errors.New("企业微信每个会话每分钟最多30条、每小时1000条"), d)
	}
	if err := b.call(); err != nil {
		return err
	}
	a.limit.take(chat, a.o.Now())
	body["chatid"], body["chat_type"] = chat, chatType
	ans, err := a.client.Request(context.WithoutCancel(ctx), "aibot_send_msg", body)
	if err != nil {
		return err
	}
	return codeError("aibot_send_msg", ans.Errcode, ans.Errmsg)
}

// pushGroup sends a text to the group: pushed by the bot, or through the
// webhook once the tenant refused that (open question 1).
func (a *Adapter) pushGroup(ctx context.Context, m bot.Outgoing, b *beginOnce) error {
	a.mu.Lock()
	chat, refused := a.chatid, a.pushRefused
	a.mu.Unlock()
	if refused && a.hook != nil {
		return a.viaWebhook(ctx, m, b)
	}
	if refused {
		a.tellOnce(ctx, "push refused", pushRefusedNotice)
		return bot.Held(errPushRefused, 10*time.Minute)
	}
	if chat == "" {
		a.tellOnce(ctx, "no group", noGroupNotice)
		return bot.Held(errNoGroup, 10*time.Minute)
	}
	err := a.push(ctx, chat, 2, markdown(m.Text), b)
	if !a.refusedPush(err) {
		return err
	}
	a.o.Logger.Warn().Err(err).Msg("wecom refused a proactive group push: scheduled messages take the webhook from now on")
	a.mu.Lock()
	a.pushRefused = true
	a.mu.Unlock()
	if a.o.State != nil {
		if err := a.o.State.Put(statePushRefused, "1"); err != nil {
			a.o.Logger.Error().Err(err).Msg("keep that group pushes are refused")
		}
	}
	if a.hook == nil {
		a.tellOnce(ctx, "push refused", pushRefusedNotice)
		return bot.Held(fmt.Errorf("%w: %w", errPushRefused, err), 10*time.Minute)
	}
	a.tellOnce(ctx, "push refused", pushRefusedHookNotice)
	return a.viaWebhook(ctx, m, b) // the refusal delivered nothing
}

// refusedPush reports whether a group push was refused for what it is (not
// throttled, not a lost connection, not an answer that never came).
func (a *Adapter) refusedPush(err error) bool {
	outcome, _ := bot.OutcomeOf(err, true)
	return err != nil && outcome == bot.RefusedOutcome
}

// viaWebhook sends through the 群机器人, with a real @ of every mentioned
// member whose userid is known (unless the tenant's ids are encrypted).
func (a *Adapter) viaWebhook(ctx context.Context, m bot.Outgoing, b *beginOnce) error {
	if d := a.hook.limit.wait("webhook", a.o.Now()); d > 0 {
		return bot.Retryable(errors.New("群机器人每分钟最多20条"), d)
	}
	ids := a.mentionIDs(m)
	if err := b.call(); err != nil {
		return err
	}
	return a.hook.text(context.WithoutCancel(ctx), m.Text, ids)
}

// mentionIDs are the userids of m's mentions, for mentioned_list.
func (a *Adapter) mentionIDs(m bot.Outgoing) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.encrypted {
		return nil // the ids 企业微信 gave are not ones the webhook can @: names in the text only
	}
	var ids []string
	for _, who := range m.Mentions {
		if id := a.userIDLocked(who); id != "" && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// userIDLocked is the userid to address a member by, or "" when none is
// known. Called with mu held.
func (a *Adapter) userIDLocked(who bot.Member) string {
	switch {
	case who.IsZero():
		return ""
	case isUserID(who.Verified):
		return who.Verified
	case isUserID(who.ID):
		return who.ID
	}
	return ""
}

func (a *Adapter) userID(who bot.Member) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.userIDLocked(who)
}

// toMember answers a member 1:1: a reply to their last 1:1 message on this
// connection, else a push to their userid.
func (a *Adapter) toMember(ctx context.Context, m bot.Outgoing, b *beginOnce) error {
	user := a.userID(m.To)
	if user == "" {
		// Not someone 企业微信 can address 1:1: answered in the group, by name.
		m.Text = "@" + m.To.String() + " " + m.Text
		m.To = bot.Member{}
		return a.pushGroup(ctx, m, b)
	}
	a.mu.Lock()
	cb := a.last["u:"+user]
	if cb != nil && !a.fresh(cb) {
		cb = nil
	}
	a.mu.Unlock()
	if cb != nil {
		err := a.reply(ctx, cb, m.Text, b)
		if !errors.Is(err, errStaleReqID) {
			return err
		}
		a.forget(cb)
	}
	return a.push(ctx, user, 1, markdown(m.Text), b)
}

// sendFile uploads the file over the connection, then pushes it 1:1 (or to
// the group, for a file without a recipient: through the webhook once the
// tenant refused group pushes).
func (a *Adapter) sendFile(ctx context.Context, m bot.Outgoing, b *beginOnce) error {
	user := a.userID(m.To)
	if !m.To.IsZero() && user == "" {
		return bot.Refused(errors.New(m.To.String() + " 没有企业微信 userid，文件只能私聊发给本企业的成员"))
	}
	data, err := os.ReadFile(m.File)
	if err != nil {
		return bot.Refused(fmt.Errorf("read %s: %w", m.File, err))
	}
	name := filepath.Base(m.File)
	a.mu.Lock()
	chat, refused := a.chatid, a.pushRefused
	a.mu.Unlock()
	if user == "" && refused && a.hook != nil {
		id, err := a.hook.upload(ctx, name, data)
		if err != nil {
			return notDelivered(err)
		}
		if err := b.call(); err != nil {
			return err
		}
		return a.hook.file(context.WithoutCancel(ctx), id)
	}
	if user == "" && chat == "" {
		a.tellOnce(ctx, "no group", noGroupNotice)
		return bot.Held(errNoGroup, 10*time.Minute)
	}
	// The upload delivers nothing to anyone: begin waits for the send.
	id, err := a.client.Upload(ctx, "file", name, data)
	if err != nil {
		return notDelivered(err)
	}
	body := map[string]any{"msgtype": "file", "file": map[string]string{"media_id": id}}
	if user != "" {
		return a.push(ctx, user, 1, body, b)
	}
	return a.push(ctx, chat, 2, body, b)
}

// notDelivered is an upload's failure as the outbox must see it: whatever
// became of the upload, no message reached anyone.
func notDelivered(err error) error {
	outcome, wait := bot.OutcomeOf(err, false)
	if outcome == bot.RefusedOutcome {
		return err
	}
	return bot.Retryable(err, wait)
}

// toAdmins pushes the text 1:1 to each admin's userid; when none took it
// (an admin must have messaged the bot 1:1 once), the alert webhook does.
func (a *Adapter) toAdmins(ctx context.Context, m bot.Outgoing, b *beginOnce) error {
	text := m.Text
	if m.File != "" {
		text = "【reportbot】" + filepath.Base(m.File)
	}
	var errs []error
	for _, admin := range a.o.Admins {
		if !isUserID(admin) {
			continue
		}
		err := a.push(ctx, admin, 1, markdown(text), b)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if a.o.Alert != nil {
		if err := b.call(); err != nil {
			return err
		}
		return a.o.Alert.Alert(context.WithoutCancel(ctx), text)
	}
	if len(errs) == 0 {
		a.o.Logger.Warn().Msg("a message for the admins has nowhere to go: write the admins' userids in [bot] admins, or set [alert] webhook")
		return nil
	}
	return errors.Join(errs...)
}

// tellOnce tells the admins something once per run: 1:1 where 企业微信 lets
// the bot, else through the alert webhook. It goes around the outbox, since
// it is about why the outbox's messages wait.
func (a *Adapter) tellOnce(ctx context.Context, kind, text string) {
	a.mu.Lock()
	told := a.told[kind]
	a.told[kind] = true
	a.mu.Unlock()
	if told {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, admin := range a.o.Admins {
		if !isUserID(admin) {
			continue
		}
		if err := a.push(ctx, admin, 1, markdown(text), &beginOnce{f: func() error { return nil }}); err == nil {
			return
		}
	}
	if a.o.Alert != nil {
		if err := a.o.Alert.Alert(ctx, text); err != nil {
			a.o.Logger.Error().Err(err).Str("notice", kind).Msg("tell the admins")
		}
		return
	}
	a.o.Logger.Warn().Str("notice", kind).Msg("the admins could not be told: " + text)
}
