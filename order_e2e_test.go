package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/console"
	"reportbot/wechat"
	"reportbot/wechat/wxtest"
)

// running is the bot wired as reportbot run wires it over the fake WeChat:
// App.Run (the outbox, the scheduler held until the backlog is in) and the
// adapter's Run (which logs in itself), on a fake domain clock.
type running struct {
	app   *App
	chat  *wechat.Adapter
	clock *console.Clock
	stop  func()
}

func runOver(t *testing.T, fake *wxtest.Server, dir, at string) *running {
	t.Helper()
	f, clock := e2eFiles(t, at)
	r := &running{clock: clock}
	wiring := &late{name: "wechat"}
	r.chat = wechat.New(wechat.Options{Group: e2eGroup, DataDir: dir, Transport: fake.Transport(),
		Interval: 5 * time.Millisecond, MediaBackoff: 5 * time.Millisecond, ReconnectBackoff: 10 * time.Millisecond,
		Logger: zerolog.Nop(), OnOnline: wiring.wake, Admins: f.config.Bot.Admins})
	var err error
	r.app, err = OpenApp(context.Background(), AppOptions{Config: f.config, Files: f.schedules, DataDir: dir,
		Transport: r.chat, Now: clock.Now, SetClock: clock.Set, Logger: zerolog.Nop(), Async: true,
		Settled: r.chat.Settled()})
	if err != nil {
		t.Fatal(err)
	}
	wiring.attach(r.app)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.chat.Run(ctx, r.app.Bot); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if err := r.app.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			if err := r.app.Store.Check(); err != nil {
				t.Error(err)
			}
			r.app.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// sentSince are the texts the fake got after the first n, as "to: content".
func sentSince(fake *wxtest.Server, n int) []string {
	var out []string
	for _, s := range fake.SentMessages()[n:] {
		out = append(out, s.To+": "+s.Content)
	}
	return out
}

func waitFor(t *testing.T, fake *wxtest.Server, from int, substr string) string {
	t.Helper()
	var found string
	eventually(t, "a message with "+substr, func() bool {
		for _, s := range sentSince(fake, from) {
			if strings.Contains(s, substr) {
				found = s
				return true
			}
		}
		return false
	})
	return found
}

// TestWeChatRestartStoresBacklogBeforeCatchUp is issue 17's restart: while
// the bot was down, 东风社区 sent its text and photo and the 10:00 nudge fell
// due. After the start the photo is stored first, and the nudge caught up
// neither lists 东风社区 nor @s its member.
func TestWeChatRestartStoresBacklogBeforeCatchUp(t *testing.T) {
	fake := newFakeWeChat(t)
	dir := t.TempDir()
	first := runOver(t, fake, dir, "2026-06-04 09:00")
	<-first.chat.Settled()
	first.stop()

	fake.Text("zhangsan", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", false)
	fake.Image("zhangsan", photoBytes(1))
	before := len(fake.SentMessages())
	second := runOver(t, fake, dir, "2026-06-04 10:30")
	nudge := waitFor(t, fake, before, "【催报】")
	if strings.Contains(nudge, "东风社区") {
		t.Errorf("the nudge caught up was composed before the backlog was stored:\n%s", nudge)
	}
	if !strings.Contains(nudge, "@西湖社区-李四") {
		t.Errorf("nudge %q", nudge)
	}
	subs, err := second.app.Store.PeriodSubmissions("weekly", 1)
	if err != nil || len(subs) != 2 {
		t.Errorf("stored %d submissions (%v), want the text and the photo", len(subs), err)
	}
	if logins := fake.Logins(); len(logins) != 2 || logins[1] != "push" {
		t.Errorf("logins %v", logins)
	}
}

// TestWeChatMembersNotInGroup: a configured member missing from the group is
// told to the admins once at login, not again at a re-login, and not @ed in
// the nudge; once they join, the roll-call @s them.
func TestWeChatMembersNotInGroup(t *testing.T) {
	fake := newFakeWeChat(t)
	var lisi wxtest.Contact
	for i, c := range fake.Members {
		if c.ID == "lisi" {
			lisi = c
			fake.Members = append(fake.Members[:i:i], fake.Members[i+1:]...)
			break
		}
	}
	r := runOver(t, fake, t.TempDir(), "2026-06-04 09:00")
	notice := waitFor(t, fake, 0, "找不到")
	if !strings.HasPrefix(notice, "friend:王科: ") || !strings.Contains(notice, "西湖社区：西湖社区-李四") || strings.Contains(notice, "刘洋") {
		t.Errorf("notice %q", notice)
	}
	// A re-login lists the same members: nothing more is said.
	fake.Expire(1101)
	eventually(t, "the re-login", func() bool { return len(fake.Logins()) == 2 && r.chat.Status().Online })

	advanceApp(t, r.app, r.clock.Now().Location(), "2026-06-04 10:00")
	nudge := waitFor(t, fake, 0, "【催报】")
	if !strings.Contains(nudge, "西湖社区") || strings.Contains(nudge, "@西湖社区-李四") || !strings.Contains(nudge, "@东风社区-张三") {
		t.Errorf("nudge %q: 西湖社区 named, its member who is not in the group not @ed", nudge)
	}

	// 李四 joins; the question they ask is handled after the join was heard.
	asked := len(fake.SentMessages())
	fake.Join(lisi)
	fake.Text("lisi", "谁没报", false)
	waitFor(t, fake, asked, "未报")
	advanceApp(t, r.app, r.clock.Now().Location(), "2026-06-04 12:00")
	if roll := waitFor(t, fake, 0, "【点名】"); !strings.Contains(roll, "@西湖社区-李四") {
		t.Errorf("roll-call %q: 李四 is in the group now", roll)
	}
	n := 0
	for _, s := range sentSince(fake, 0) {
		n += strings.Count(s, "找不到")
	}
	if n != 1 {
		t.Errorf("%d notices about members not in the group, want 1: %q", n, sentSince(fake, 0))
	}
}

// A question right behind another member's report sees it, although the
// report's photo takes a while to download (senders are handled side by side).
func TestWeChatQuestionBehindReportSeesIt(t *testing.T) {
	e := startE2E(t)
	e.advance(t, "2026-06-04 10:30")
	before := len(e.fake.SentMessages())
	e.fake.Text("zhangsan", "本周典型做法：东风社区开展消防疏散演练，居民一百二十人参加。", false)
	photo := e.fake.Image("zhangsan", photoBytes(1))
	e.fake.ZeroBytes(photo, 2) // two empty answers first: the download is tried three times
	e.fake.Text("wangke", "谁没报", false)
	answer := waitFor(t, e.fake, before, "（截止6月4日（周四）12:00）")
	weekly := answer[max(strings.Index(answer, "「本周典型做法"), 0):]
	if !strings.Contains(weekly, "西湖社区") || strings.Contains(weekly, "东风社区") {
		t.Errorf("the answer missed the report sent before the question:\n%s", answer)
	}
	if n := e.stored(t, "weekly", 1); n != 2 {
		t.Errorf("%d stored", n)
	}
}
