package wecomtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// client is a bare long connection for testing the fake itself.
type client struct {
	t  *testing.T
	ws *websocket.Conn
	n  int
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

// call sends cmd with body and returns the answer with the same req_id,
// keeping callbacks that came meanwhile in got.
func (c *client) call(cmd string, body any) (errcode int, answerBody json.RawMessage) {
	c.t.Helper()
	c.n++
	id := fmt.Sprintf("%s_%d", cmd, c.n)
	return c.callID(cmd, id, body)
}

func (c *client) callID(cmd, id string, body any) (int, json.RawMessage) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"cmd": cmd, "headers": map[string]string{"req_id": id}, "body": body}); err != nil {
		c.t.Fatal(err)
	}
	for {
		f := c.read()
		if f.Cmd == "" && f.Headers.ReqID == id {
			return *f.Errcode, f.Body
		}
	}
}

func (c *client) read() frame {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f frame
	if err := c.ws.ReadJSON(&f); err != nil {
		c.t.Fatal(err)
	}
	return f
}

func (c *client) subscribe(s *Server) {
	c.t.Helper()
	if code, _ := c.call("aibot_subscribe", map[string]string{"bot_id": s.Config().BotID, "secret": s.Config().Secret}); code != 0 {
		c.t.Fatalf("subscribe: errcode %d", code)
	}
}

func TestSubscribeAndCommands(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	for _, tt := range []struct {
		name   string
		before func(*client)
		cmd    string
		body   any
		want   int
	}{
		{"a command before subscribe", nil, "ping", nil, ErrNotSubscribed},
		{"a wrong secret", nil, "aibot_subscribe", map[string]string{"bot_id": "aibtest", "secret": "no"}, ErrCredential},
		{"ping after subscribe", func(c *client) { c.subscribe(s) }, "ping", nil, 0},
		{"a push to a chat nobody messaged from", func(c *client) { c.subscribe(s) }, "aibot_send_msg",
			map[string]any{"chatid": "wrkOther", "chat_type": 2, "msgtype": "markdown", "markdown": map[string]string{"content": "x"}}, ErrInvalidChatID},
		{"a reply with a made-up req_id", func(c *client) { c.subscribe(s) }, "aibot_respond_msg",
			map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": "x"}}, ErrInvalidReqID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s)
			if tt.before != nil {
				tt.before(c)
			}
			if code, _ := c.call(tt.cmd, tt.body); code != tt.want {
				t.Errorf("errcode %d, want %d", code, tt.want)
			}
		})
	}
}

// A reply names the callback's req_id on the connection it came on; after a
// reconnect the same req_id is refused with 846605.
func TestReplyReqIDBoundToSession(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	c := dial(t, s)
	c.subscribe(s)
	p := s.MustPush(s.GroupText(Sender{"zhangsan"}, "任务"))
	if f := c.read(); f.Cmd != "aibot_msg_callback" || f.Headers.ReqID != p.ReqID {
		t.Fatalf("callback %+v", f)
	}
	md := map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": "收到"}}
	if code, _ := c.callID("aibot_respond_msg", p.ReqID, md); code != 0 {
		t.Fatalf("reply: %d", code)
	}
	if code, _ := c.call("aibot_send_msg", map[string]any{"chatid": "wrkGroup1", "chat_type": 2, "msgtype": "markdown", "markdown": map[string]string{"content": "提醒"}}); code != 0 {
		t.Fatalf("push to the group that messaged: %d", code)
	}
	c2 := dial(t, s) // the same bot again: the first is kicked
	c2.subscribe(s)
	if f := c.read(); f.Cmd != "aibot_event_callback" || !strings.Contains(string(f.Body), "disconnected_event") {
		t.Errorf("the kicked connection got %+v", f)
	}
	if code, _ := c2.callID("aibot_respond_msg", p.ReqID, md); code != ErrInvalidReqID {
		t.Errorf("stale req_id: errcode %d", code)
	}
	if got := s.Messages(Reply); len(got) != 1 || got[0].Text != "收到" || got[0].ChatID != "wrkGroup1" {
		t.Errorf("replies %+v", got)
	}
}

func TestRateLimits(t *testing.T) {
	s := New(Config{PerMinute: 3, WebhookPerMinute: 2})
	defer s.Close()
	c := dial(t, s)
	c.subscribe(s)
	s.MustPush(s.PrivateText(Sender{"lisi"}, "你好"))
	var codes []int
	for range 4 {
		code, _ := c.call("aibot_send_msg", map[string]any{"chatid": "lisi", "chat_type": 1, "msgtype": "markdown", "markdown": map[string]string{"content": "x"}})
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != fmt.Sprint([]int{0, 0, 0, ErrFreq}) {
		t.Errorf("bot: %v", codes)
	}
	codes = nil
	for range 3 {
		resp, err := http.Post(s.WebhookURL(), "application/json", strings.NewReader(`{"msgtype":"text","text":{"content":"点名","mentioned_list":["lisi"]}}`))
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Errcode int }
		_ = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		codes = append(codes, r.Errcode)
	}
	if fmt.Sprint(codes) != fmt.Sprint([]int{0, 0, ErrFreq}) {
		t.Errorf("webhook: %v", codes)
	}
	if got := s.Messages(Webhook); len(got) != 2 || got[0].Mentioned[0] != "lisi" {
		t.Errorf("webhook messages %+v", got)
	}
	s.Advance(time.Minute)
	if code, _ := c.call("aibot_send_msg", map[string]any{"chatid": "lisi", "chat_type": 1, "msgtype": "markdown", "markdown": map[string]string{"content": "x"}}); code != 0 {
		t.Errorf("a minute later: %d", code)
	}
}

func TestMediaEncryptedAndExpiring(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	plain := bytes.Repeat([]byte("报表"), 50)
	url, key := s.AddMedia("方案.docx", plain)
	get := func() (int, []byte, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header.Get("Content-Disposition")
	}
	s.FailMedia(1)
	if code, _, _ := get(); code != 503 {
		t.Errorf("first fetch %d, want 503", code)
	}
	code, enc, disp := get()
	if code != 200 || !strings.Contains(disp, "filename*=UTF-8''") {
		t.Fatalf("fetch %d %q", code, disp)
	}
	k, _ := base64.StdEncoding.DecodeString(key)
	block, _ := aes.NewCipher(k)
	out := make([]byte, len(enc))
	cipher.NewCBCDecrypter(block, k[:16]).CryptBlocks(out, enc)
	n := int(out[len(out)-1])
	if len(enc)%32 != 0 || n < 1 || n > 32 || !bytes.Equal(out[:len(out)-n], plain) {
		t.Errorf("decrypted %d bytes, pad %d", len(out), n)
	}
	s.Advance(6 * time.Minute)
	if code, _, _ := get(); code == 200 {
		t.Errorf("fetched after 6 minutes")
	}
}

func TestUploadChunks(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	c := dial(t, s)
	c.subscribe(s)
	s.MustPush(s.PrivateText(Sender{"lisi"}, "导出"))
	data := bytes.Repeat([]byte{7}, 600<<10)
	code, body := c.call("aibot_upload_media_init", map[string]any{"type": "file", "filename": "汇总.xlsx", "total_size": len(data), "total_chunks": 2})
	var init struct {
		UploadID string `json:"upload_id"`
	}
	_ = json.Unmarshal(body, &init)
	if code != 0 || init.UploadID == "" {
		t.Fatalf("init %d %s", code, body)
	}
	for _, i := range []int{1, 0, 1} { // out of order, one twice
		part := data[i*512<<10 : min(len(data), (i+1)*512<<10)]
		if code, _ := c.call("aibot_upload_media_chunk", map[string]any{"upload_id": init.UploadID, "chunk_index": i, "base64_data": base64.StdEncoding.EncodeToString(part)}); code != 0 {
			t.Fatalf("chunk %d: %d", i, code)
		}
	}
	code, body = c.call("aibot_upload_media_finish", map[string]any{"upload_id": init.UploadID})
	var fin struct {
		MediaID string `json:"media_id"`
	}
	_ = json.Unmarshal(body, &fin)
	if code != 0 {
		t.Fatalf("finish %d", code)
	}
	if code, _ := c.call("aibot_send_msg", map[string]any{"chatid": "lisi", "chat_type": 1, "msgtype": "file", "file": map[string]string{"media_id": fin.MediaID}}); code != 0 {
		t.Fatalf("send file %d", code)
	}
	if got := s.Messages(Push); len(got) != 1 || got[0].FileName != "汇总.xlsx" || !bytes.Equal(got[0].Data, data) {
		t.Errorf("file message %+v", len(got))
	}
}
