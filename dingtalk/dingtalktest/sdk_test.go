package dingtalktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
)

// sdkLog shows the SDK's log when DINGTALK_SDK_LOG is set.
type sdkLog struct{ on bool }

func (l sdkLog) logf(level, f string, a ...any) {
	if l.on {
		log.Printf("sdk %s: %s", level, fmt.Sprintf(f, a...))
	}
}
func (l sdkLog) Debugf(f string, a ...any)   { l.logf("debug", f, a...) }
func (l sdkLog) Infof(f string, a ...any)    { l.logf("info", f, a...) }
func (l sdkLog) Warningf(f string, a ...any) { l.logf("warn", f, a...) }
func (l sdkLog) Errorf(f string, a ...any)   { l.logf("error", f, a...) }
func (l sdkLog) Fatalf(f string, a ...any)   { l.logf("fatal", f, a...) }

func TestMain(m *testing.M) {
	// The SDK's logger is an unsynchronised global that GetLogger even writes
	// lazily: set it once, before any client runs (PROTOCOL.md §11.4).
	logger.SetLogger(sdkLog{on: os.Getenv("DINGTALK_SDK_LOG") != ""})
	os.Exit(m.Run())
}

const wait = 5 * time.Second

// reconnectWait covers the SDK's 3 s (+20 % jitter) reconnect delay.
const reconnectWait = 6 * time.Second

var alice = Sender{StaffID: "manager4512", Nick: "张三"}

// newFake starts a fake that the test closes.
func newFake(t *testing.T, cfg Config) *Server {
	t.Helper()
	s := New(cfg)
	t.Cleanup(s.Close)
	return s
}

// startSDK connects the real SDK to s with register's handlers; the client
// closes (before the server) when the test ends.
func startSDK(t *testing.T, s *Server, register func(*client.StreamClient)) *client.StreamClient {
	t.Helper()
	cfg := s.Config()
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(cfg.ClientID, cfg.ClientSecret)),
		client.WithOpenApiHost(s.URL()),
	)
	register(cli)
	if err := cli.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(cli.Close)
	if !s.WaitDials(1, wait) {
		t.Fatal("the SDK never dialled the stream")
	}
	return cli
}

// botInbox registers a chatbot handler that hands each callback to the test.
func botInbox(answer string) (func(*client.StreamClient), chan *chatbot.BotCallbackDataModel) {
	got := make(chan *chatbot.BotCallbackDataModel, 16)
	return func(cli *client.StreamClient) {
		cli.RegisterChatBotCallbackRouter(func(_ context.Context, d *chatbot.BotCallbackDataModel) ([]byte, error) {
			got <- d
			return []byte(answer), nil
		})
	}, got
}

// rawInbox registers a raw frame handler for the robot topic; handle decides
// the answer to each frame.
func rawInbox(handle func(df *payload.DataFrame) error) (func(*client.StreamClient), chan *payload.DataFrame) {
	got := make(chan *payload.DataFrame, 16)
	return func(cli *client.StreamClient) {
		cli.RegisterCallbackRouter(payload.BotMessageCallbackTopic, func(_ context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
			got <- df
			if handle != nil {
				if err := handle(df); err != nil {
					return nil, err
				}
			}
			return payload.NewSuccessDataFrameResponse(), nil
		})
	}, got
}

func receive[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("the handler got nothing")
		panic("unreachable")
	}
}

func TestSDKConnectsAndAcksGroupText(t *testing.T) {
	s := newFake(t, Config{})
	register, got := botInbox(`{"ok":1}`)
	startSDK(t, s, register)

	opens := s.Opens()
	if len(opens) != 1 {
		t.Fatalf("opens = %d, want 1", len(opens))
	}
	o := opens[0]
	for _, sub := range []Subscription{{TypeCallback, BotTopic}, {TypeSystem, "ping"}, {TypeSystem, "disconnect"}} {
		if !o.Subscribes(sub.Type, sub.Topic) {
			t.Errorf("open did not subscribe %v: %+v", sub, o.Subscriptions)
		}
	}
	if !strings.HasPrefix(o.UA, "dingtalk-sdk-go/") || o.ClientID != s.Config().ClientID {
		t.Errorf("open = %+v", o)
	}

	p := s.Push(s.GroupText(alice, "今日已完成"))
	d := receive(t, got)
	if d.Text.Content != " 今日已完成" || d.SenderStaffId != alice.StaffID || d.ConversationId != s.Config().Group.ID ||
		d.ConversationType != "2" || !d.IsInAtList || d.MsgId != p.MsgID || d.SessionWebhook != p.SessionWebhook ||
		d.RobotCode != s.Config().RobotCode {
		t.Errorf("callback as the SDK saw it: %+v", d)
	}
	a, ok := s.WaitAck(p.MessageID, wait)
	if !ok || a.Code != 200 || a.Data != `{"ok":1}` {
		t.Errorf("ack = %+v, %v; want code 200 with the handler's answer", a, ok)
	}
	if bad := s.BadAcks(); len(bad) != 0 {
		t.Errorf("frames that were not acks: %q", bad)
	}
}

// TestSDKSeesEveryKind shows what reaches a raw handler for each kind of
// message, and that the SDK's typed model drops the quote fields.
func TestSDKSeesEveryKind(t *testing.T) {
	s := newFake(t, Config{})
	register, got := rawInbox(nil)
	startSDK(t, s, register)
	png := []byte("\x89PNG fake")
	tests := []struct {
		name  string
		cb    Callback
		check func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel)
	}{
		{"text", s.GroupText(alice, "报表"), func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel) {
			if typed.Msgtype != "text" || typed.Text.Content != " 报表" || len(typed.AtUsers) != 1 || typed.AtUsers[0].DingtalkId != RobotUserID {
				t.Errorf("typed = %+v", typed)
			}
		}},
		{"picture", s.Picture(alice, png), func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel) {
			c, _ := typed.Content.(map[string]any)
			if typed.Msgtype != "picture" || c["downloadCode"] == "" || c["downloadCode"] == nil {
				t.Errorf("content = %#v", typed.Content)
			}
		}},
		{"richText", s.RichText(alice, "今日报表", png, png), func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel) {
			c, _ := typed.Content.(map[string]any)
			items, _ := c["richText"].([]any)
			if typed.Msgtype != "richText" || len(items) != 3 {
				t.Errorf("content = %#v", typed.Content)
			}
		}},
		{"private file", s.File(alice, "报表.xlsx", []byte("PK")), func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel) {
			c, _ := typed.Content.(map[string]any)
			if typed.ConversationType != "1" || typed.Msgtype != "file" || c["fileName"] != "报表.xlsx" {
				t.Errorf("typed = %+v", typed)
			}
		}},
		{"private text", s.PrivateText(alice, "我报了吗"), func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel) {
			if typed.ConversationType != "1" || typed.ConversationId != "cidP"+alice.StaffID || typed.IsInAtList {
				t.Errorf("typed = %+v", typed)
			}
		}},
		{"quoted file", s.QuotedFile(alice, "这是报表", "总结.docx", []byte("PK")), func(t *testing.T, raw map[string]any, typed chatbot.BotCallbackDataModel) {
			text, _ := raw["text"].(map[string]any)
			replied, _ := text["repliedMsg"].(map[string]any)
			content, _ := replied["content"].(map[string]any)
			if text["isReplyMsg"] != true || replied["msgType"] != "file" || content["fileName"] != "总结.docx" {
				t.Errorf("raw text = %#v", text)
			}
			// The typed model keeps only text.content: an adapter must read the raw frame.
			again, _ := json.Marshal(typed.Text)
			if strings.Contains(string(again), "repliedMsg") {
				t.Errorf("the SDK model kept the quote: %s", again)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.Push(tt.cb)
			df := receive(t, got)
			if df.GetMessageId() != p.MessageID || df.Type != TypeCallback || df.GetTopic() != BotTopic {
				t.Fatalf("frame = %+v", df)
			}
			var raw map[string]any
			var typed chatbot.BotCallbackDataModel
			if err := json.Unmarshal([]byte(df.Data), &raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(df.Data), &typed); err != nil {
				t.Fatal(err)
			}
			if typed.MsgId != p.MsgID || typed.SenderStaffId != alice.StaffID {
				t.Errorf("typed = %+v", typed)
			}
			tt.check(t, raw, typed)
			if a, ok := s.WaitAck(p.MessageID, wait); !ok || a.Code != 200 {
				t.Errorf("ack = %+v, %v", a, ok)
			}
		})
	}
}

func TestSDKSystemFramesAndUnknownTopics(t *testing.T) {
	s := newFake(t, Config{})
	register, _ := botInbox("")
	startSDK(t, s, register)

	id := s.Ping(`{"opaque":"abc"}`)
	if a, ok := s.WaitAck(id, wait); !ok || a.Code != 200 || a.Data != `{"opaque":"abc"}` {
		t.Errorf("ping ack = %+v, %v; want the data echoed with code 200", a, ok)
	}
	for _, f := range []struct{ typ, topic string }{
		{TypeCallback, "/v1.0/card/instances/callback"},
		{TypeEvent, "chat_update_title"},
	} {
		id := s.PushFrame(f.typ, f.topic, "{}")
		if a, ok := s.WaitAck(id, wait); !ok || a.Code != 404 {
			t.Errorf("%s %s: ack = %+v, %v; want 404", f.typ, f.topic, a, ok)
		}
	}
}

func TestSDKStartFailsOnBadCredentials(t *testing.T) {
	s := newFake(t, Config{ClientSecret: "right"})
	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(s.Config().ClientID, "wrong")),
		client.WithOpenApiHost(s.URL()),
	)
	register, _ := botInbox("")
	register(cli)
	defer cli.Close()
	err := cli.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "InvalidAuthentication") {
		t.Fatalf("Start = %v; want the 401 body as the error", err)
	}
	if s.Dials() != 0 || s.OpenCalls() != 1 {
		t.Errorf("dials %d opens %d", s.Dials(), s.OpenCalls())
	}
}

// TestSDKReconnects shows that the SDK opens and dials again after each way
// a connection ends, after its ~3 s delay, and that frames pushed meanwhile
// arrive on the new connection.
func TestSDKReconnects(t *testing.T) {
	tests := []struct {
		name    string
		end     func(t *testing.T, s *Server)
		refused int
		within  time.Duration
	}{
		{"system disconnect", func(t *testing.T, s *Server) {
			id := s.Disconnect()
			if a, ok := s.WaitAck(id, wait); !ok || a.Code != 200 {
				t.Errorf("disconnect ack %+v %v", a, ok)
			}
		}, 0, reconnectWait},
		{"dropped socket", func(t *testing.T, s *Server) { s.Drop() }, 0, reconnectWait},
		// A refused open doubles the delay: 3 s, then 6 s, each +20 %.
		{"dropped socket, first reopen refused", func(t *testing.T, s *Server) { s.RefuseOpens(1); s.Drop() }, 1, 13 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t, Config{})
			register, got := botInbox("")
			startSDK(t, s, register)
			start := time.Now()
			tt.end(t, s)
			p := s.Push(s.GroupText(alice, "断线期间"))
			if !s.WaitDials(2, tt.within) {
				t.Fatalf("no new dial within %v (opens %d)", tt.within, s.OpenCalls())
			}
			t.Logf("reconnected after %v", time.Since(start).Round(10*time.Millisecond))
			if s.OpenCalls() != 2+tt.refused || len(s.Opens()) != 2 {
				t.Errorf("open calls %d, accepted %d; want %d and 2", s.OpenCalls(), len(s.Opens()), 2+tt.refused)
			}
			if d := receive(t, got); d.MsgId != p.MsgID {
				t.Errorf("got %s, want the message pushed while down", d.MsgId)
			}
			if a, ok := s.WaitAck(p.MessageID, wait); !ok || a.Code != 200 {
				t.Errorf("ack %+v %v", a, ok)
			}
		})
	}
}

// TestSDKGetsRedeliveries shows that a frame comes again, with the same
// msgId, when its handler failed, when it was too slow, or when the server
// chooses to resend it: an adapter must dedupe by msgId.
func TestSDKGetsRedeliveries(t *testing.T) {
	t.Run("handler failed", func(t *testing.T) {
		s := newFake(t, Config{RedeliverAfter: 200 * time.Millisecond})
		var mu sync.Mutex
		calls := 0
		register, got := rawInbox(func(*payload.DataFrame) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return errors.New("store busy")
			}
			return nil
		})
		startSDK(t, s, register)
		p := s.Push(s.GroupText(alice, "报表"))
		first, second := receive(t, got), receive(t, got)
		if first.Data != second.Data || first.GetMessageId() != second.GetMessageId() {
			t.Errorf("redelivery differs:\n%s\n%s", first.Data, second.Data)
		}
		acks := s.WaitAcks(p.MessageID, 2, wait)
		if len(acks) != 2 || acks[0].Code != 500 || acks[0].Message != "store busy" || acks[1].Code != 200 {
			t.Errorf("acks = %+v; want 500 then 200", acks)
		}
		time.Sleep(500 * time.Millisecond) // no further redelivery once acked
		if n := s.Deliveries(p.MessageID); n != 2 {
			t.Errorf("deliveries = %d, want 2", n)
		}
	})
	t.Run("handler too slow", func(t *testing.T) {
		s := newFake(t, Config{RedeliverAfter: 200 * time.Millisecond, MaxRedeliveries: 1})
		release := make(chan struct{})
		var once sync.Once
		register, got := rawInbox(func(*payload.DataFrame) error {
			once.Do(func() { <-release }) // only the first call blocks
			return nil
		})
		startSDK(t, s, register)
		p := s.Push(s.GroupText(alice, "报表"))
		receive(t, got)
		receive(t, got) // the redelivery runs while the first call still does
		close(release)
		if acks := s.WaitAcks(p.MessageID, 2, wait); len(acks) != 2 || acks[0].Code != 200 || acks[1].Code != 200 {
			t.Errorf("acks = %+v", acks)
		}
	})
	t.Run("on purpose", func(t *testing.T) {
		s := newFake(t, Config{})
		register, got := botInbox("")
		startSDK(t, s, register)
		p := s.Push(s.GroupText(alice, "报表"))
		receive(t, got)
		s.WaitAck(p.MessageID, wait)
		s.Redeliver(p.MessageID)
		if d := receive(t, got); d.MsgId != p.MsgID {
			t.Errorf("redelivered msgId %s, want %s", d.MsgId, p.MsgID)
		}
		if acks := s.WaitAcks(p.MessageID, 2, wait); len(acks) != 2 {
			t.Errorf("acks = %+v", acks)
		}
	})
}

// TestSDKReplierIgnoresExpiredSession shows that the SDK's replier reports
// success for a reply the session webhook refused (errcode 300001 with HTTP
// 200): an adapter must post replies itself and read errcode.
func TestSDKReplierIgnoresExpiredSession(t *testing.T) {
	s := newFake(t, Config{SessionLifetime: time.Minute})
	register, got := botInbox("")
	startSDK(t, s, register)
	s.Push(s.GroupText(alice, "今日已完成"))
	d := receive(t, got)
	if exp := time.UnixMilli(d.SessionWebhookExpiredTime); exp.Sub(s.Now()) > time.Minute || exp.Before(s.Now()) {
		t.Errorf("sessionWebhookExpiredTime %v, now %v", exp, s.Now())
	}

	replier := chatbot.NewChatbotReplier()
	reply := map[string]any{
		"msgtype": "text",
		"text":    map[string]any{"content": "@manager4512 已收到"},
		"at":      map[string]any{"atUserIds": []string{d.SenderStaffId}},
	}
	if err := replier.ReplyMessage(context.Background(), d.SessionWebhook, reply); err != nil {
		t.Fatalf("reply: %v", err)
	}
	sent := s.WaitMessages(Session, 1, wait)
	if len(sent) != 1 || sent[0].Text != "@manager4512 已收到" || len(sent[0].AtUserIDs) != 1 || sent[0].AtUserIDs[0] != "manager4512" {
		t.Fatalf("session messages = %+v", sent)
	}

	s.Advance(time.Minute + time.Second)
	if err := replier.ReplyMessage(context.Background(), d.SessionWebhook, reply); err != nil {
		t.Fatalf("the SDK now returns %v; PROTOCOL.md §11.5 says nil", err)
	}
	refused := s.Refused(Session)
	if len(refused) != 1 || refused[0].Error != "300001" || len(s.Messages(Session)) != 1 {
		t.Fatalf("refused = %+v", refused)
	}
	// What the SDK threw away:
	body, _ := json.Marshal(reply)
	resp, err := http.Post(d.SessionWebhook, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(answer), `"errcode":300001`) || !strings.Contains(string(answer), "session 不存在") {
		t.Errorf("expired session answered %d %s", resp.StatusCode, answer)
	}
}
