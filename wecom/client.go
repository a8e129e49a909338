package wecom

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"reportbot/bot"
)

// Frame is the long connection's one shape: {cmd, headers:{req_id}, body}.
// The server's answers have no cmd and carry errcode and errmsg.
type Frame struct {
	Cmd     string `json:"cmd,omitempty"`
	Headers struct {
		ReqID string `json:"req_id"`
	} `json:"headers"`
	Body    json.RawMessage `json:"body,omitempty"`
	Errcode int             `json:"errcode,omitempty"`
	Errmsg  string          `json:"errmsg,omitempty"`
}

// The errcodes the client acts on (PROTOCOL.md §7).
const (
	codeFreq          = 45009  // api freq out of limit
	codeInvalidReqID  = 846605 // a req_id of an earlier connection
	codeNotSubscribed = 846609 // the server no longer counts this connection subscribed
	codeInvalidChatID = 93006
)

// ErrKicked is a connection the server closed because another connection
// subscribed as the same bot: another reportbot (or a test tool) runs with
// this bot's credentials. Reconnecting would kick that one in turn, so the
// client stops.
var ErrKicked = errors.New("企业微信：另一个程序用同一个智能机器人连上了，本程序的连接被顶掉：同一个机器人只能有一个连接，请停掉其中一个（本程序不再重连）")

// ErrCredentials is a subscribe the server refused for the bot's credentials.
var ErrCredentials = errors.New("企业微信拒绝了智能机器人的凭证：检查设置文件 [wecom] 的 bot_id 和 secret（或环境变量 " + SecretEnv + "），并确认机器人开启了 API 模式的长连接")

// errStaleReqID is a reply whose req_id came on an earlier connection: the
// server would answer 846605, so it is not attempted and the message takes
// another route.
var errStaleReqID = errors.New("the callback's req_id belongs to an earlier connection")

// ClientOptions configure a Client.
type ClientOptions struct {
	URL, BotID, Secret string
	// OnFrame takes each callback (a frame with a cmd) with the number of the
	// connection it came on, in order. It must not block for long.
	OnFrame func(session int, f Frame)
	// OnState hears the connection come up (true) and go (false, with why).
	OnState func(online bool, err error)
	Dialer  *websocket.Dialer
	// PingEvery is the app-level heartbeat (default 30 s, as the doc asks);
	// two pings unanswered end the connection.
	PingEvery time.Duration
	// AckTimeout bounds the wait for an answer to a request (default 10 s).
	AckTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between connections
	// (defaults 1 s and 30 s, doubling).
	MinBackoff, MaxBackoff time.Duration
	Now                    func() time.Time
	Logger                 zerolog.Logger
}

// Client is one long connection of one bot, reconnecting as needed.
type Client struct {
	o      ClientOptions
	prefix string
	seq    atomic.Uint64

	wmu sync.Mutex // gorilla allows one writer at a time

	mu         sync.Mutex
	ws         *websocket.Conn
	subscribed bool
	session    int
	waiters    map[string]chan Frame
	pings      int // unanswered pings on this connection
}

// NewClient fills in o's defaults.
func NewClient(o ClientOptions) *Client {
	if o.Dialer == nil {
		o.Dialer = &websocket.Dialer{HandshakeTimeout: 15 * time.Second}
	}
	if o.PingEvery <= 0 {
		o.PingEvery = 30 * time.Second
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnFrame == nil {
		o.OnFrame = func(int, Frame) {}
	}
	if o.OnState == nil {
		o.OnState = func(bool, error) {}
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Client{o: o, prefix: hex.EncodeToString(b), waiters: map[string]chan Frame{}}
}

// nextBackoff doubles a wait up to max.
func nextBackoff(wait, max time.Duration) time.Duration { return min(2*wait, max) }

// Run connects, subscribes and keeps the connection until ctx ends (nil), the
// server kicks it for a newer one (ErrKicked) or refuses the credentials
// (ErrCredentials). Any other end is retried after a wait of 1 s doubling to
// 30 s, reset by each successful subscribe.
func (c *Client) Run(ctx context.Context) error {
	wait := c.o.MinBackoff
	for {
		subscribed, err := c.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrKicked) || errors.Is(err, ErrCredentials) {
			c.o.OnState(false, err)
			return err
		}
		if subscribed {
			wait = c.o.MinBackoff
		}
		c.o.OnState(false, err)
		c.o.Logger.Warn().Err(err).Dur("retry_in", wait).Msg("wecom long connection")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = nextBackoff(wait, c.o.MaxBackoff)
	}
}

// connect runs one connection to its end; subscribed says whether it got that far.
func (c *Client) connect(ctx context.Context) (subscribed bool, err error) {
	ws, resp, err := c.o.Dialer.DialContext(ctx, c.o.URL, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return false, fmt.Errorf("dial %s: %w", c.o.URL, err)
	}
	c.mu.Lock()
	c.ws, c.subscribed, c.pings = ws, false, 0
	c.mu.Unlock()
	readDone := make(chan error, 1)
	go func() { readDone <- c.readLoop(ws) }()
	defer func() {
		ws.Close()
		c.mu.Lock()
		c.ws, c.subscribed = nil, false
		for id, ch := range c.waiters { // their answers will not come now
			close(ch)
			delete(c.waiters, id)
		}
		c.mu.Unlock()
	}()
	ack, err := c.request(ctx, "aibot_subscribe", map[string]string{"bot_id": c.o.BotID, "secret": c.o.Secret}, true)
	switch {
	case err != nil:
		return false, fmt.Errorf("subscribe: %w", err)
	case ack.Errcode == codeFreq || ack.Errcode == -1 || ack.Errcode == 846601 || ack.Errcode == 846602:
		return false, fmt.Errorf("subscribe: errcode %d: %s", ack.Errcode, ack.Errmsg)
	case ack.Errcode != 0:
		return false, fmt.Errorf("%w（errcode %d: %s）", ErrCredentials, ack.Errcode, redact(ack.Errmsg))
	}
	c.mu.Lock()
	c.subscribed = true
	c.session++
	session := c.session
	c.mu.Unlock()
	c.o.Logger.Info().Int("session", session).Msg("wecom long connection subscribed")
	c.o.OnState(true, nil)
	ping := time.NewTicker(c.o.PingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-readDone:
			return true, err
		case <-ping.C:
			c.mu.Lock()
			missed := c.pings
			c.pings++
			c.mu.Unlock()
			if missed >= 2 {
				return true, errors.New("two pings unanswered: the connection is dead")
			}
			if err := c.write(ws, Frame{Cmd: "ping", Headers: struct {
				ReqID string `json:"req_id"`
			}{c.reqID("ping")}}); err != nil {
				return true, fmt.Errorf("ping: %w", err)
			}
		}
	}
}

// readLoop routes answers to their requests and callbacks to OnFrame until
// the connection ends.
func (c *Client) readLoop(ws *websocket.Conn) error {
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		var f Frame
		if err := json.Unmarshal(data, &f); err != nil {
			c.o.Logger.Warn().Err(err).Int("bytes", len(data)).Msg("wecom frame not understood: dropped")
			continue
		}
		id := f.Headers.ReqID
		switch {
		case f.Cmd == "":
			c.mu.Lock()
			if strings.HasPrefix(id, "ping_") {
				c.pings = 0
			}
			ch := c.waiters[id]
			delete(c.waiters, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		case f.Cmd == "ping":
			// The server's own ping (open question 8): answered like ours are.
			_ = c.write(ws, Frame{Headers: f.Headers})
		case f.Cmd == "aibot_event_callback" && eventType(f.Body) == "disconnected_event":
			c.o.Logger.Error().Msg("wecom: another connection subscribed as this bot and took over: two instances are running with the same bot; not reconnecting")
			return ErrKicked
		default:
			c.mu.Lock()
			session := c.session
			c.mu.Unlock()
			c.o.OnFrame(session, f)
		}
	}
}

func eventType(body json.RawMessage) string {
	var b struct {
		Event struct {
			EventType string `json:"eventtype"`
		} `json:"event"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Event.EventType
}

func (c *Client) write(ws *websocket.Conn, v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(c.o.AckTimeout))
	return ws.WriteJSON(v)
}

// reqID is unique across connections and restarts, so that an answer is
// never taken for another request's.
func (c *Client) reqID(cmd string) string {
	return fmt.Sprintf("%s_%d_%s%d", cmd, c.o.Now().UnixMilli(), c.prefix, c.seq.Add(1))
}

// Session is the number of the current subscribed connection (0: none yet).
func (c *Client) Session() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.subscribed {
		return 0
	}
	return c.session
}

// Request sends a command on the subscribed connection and waits for its
// answer. Errors are classified for the outbox: offline or a write that
// failed is retryable; no answer in time or the connection lost while
// waiting is uncertain. The answer's errcode is the caller's to judge.
func (c *Client) Request(ctx context.Context, cmd string, body any) (Frame, error) {
	return c.request(ctx, cmd, body, false)
}

// Reply answers the callback reqID of connection session: when that
// connection is gone, it is not attempted (errStaleReqID).
func (c *Client) Reply(ctx context.Context, session int, reqID string, body any) (Frame, error) {
	if s := c.Session(); s == 0 || s != session {
		return Frame{}, bot.Retryable(errStaleReqID, 0)
	}
	return c.requestID(ctx, "aibot_respond_msg", reqID, body, false)
}

func (c *Client) request(ctx context.Context, cmd string, body any, subscribe bool) (Frame, error) {
	return c.requestID(ctx, cmd, c.reqID(cmd), body, subscribe)
}

func (c *Client) requestID(ctx context.Context, cmd, id string, body any, subscribe bool) (Frame, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Frame{}, bot.Refused(fmt.Errorf("%s: %w", cmd, err))
	}
	c.mu.Lock()
	ws := c.ws
	if ws == nil || (!subscribe && !c.subscribed) {
		c.mu.Unlock()
		return Frame{}, bot.Retryable(fmt.Errorf("%s: %w", cmd, bot.ErrOffline), 0)
	}
	ch := make(chan Frame, 1)
	c.waiters[id] = ch
	c.mu.Unlock()
	f := Frame{Cmd: cmd, Body: raw}
	f.Headers.ReqID = id
	if err := c.write(ws, f); err != nil {
		c.mu.Lock()
		delete(c.waiters, id)
		c.mu.Unlock()
		ws.Close() // a failed write leaves the connection unusable: reconnect
		return Frame{}, bot.Retryable(fmt.Errorf("%s: write: %w", cmd, err), 0)
	}
	t := time.NewTimer(c.o.AckTimeout)
	defer t.Stop()
	select {
	case ans, ok := <-ch:
		if !ok {
			return Frame{}, bot.Uncertain(fmt.Errorf("%s: the connection ended before the answer", cmd))
		}
		return ans, nil
	case <-t.C:
		c.mu.Lock()
		delete(c.waiters, id)
		c.mu.Unlock()
		return Frame{}, bot.Uncertain(fmt.Errorf("%s: no answer in %s", cmd, c.o.AckTimeout))
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, id)
		c.mu.Unlock()
		return Frame{}, bot.Uncertain(fmt.Errorf("%s: %w", cmd, ctx.Err()))
	}
}

// codeError classifies a send's errcode for the outbox, saying whether
// trying again can help.
func codeError(what string, code int, msg string) error {
	if code == 0 {
		return nil
	}
	desc := fmt.Errorf("%s: errcode %d: %s", what, code, redact(msg))
	switch code {
	case codeFreq:
		return bot.Retryable(fmt.Errorf("%w: 企业微信限频（每个会话每分钟30条、每小时1000条）", desc), time.Minute)
	case codeNotSubscribed, 846601, 846602, -1:
		return bot.Retryable(desc, 0) // the server took nothing: after a reconnect it may
	case codeInvalidReqID:
		return bot.Retryable(fmt.Errorf("%w: %w", errStaleReqID, desc), 0)
	case codeInvalidChatID:
		return bot.Refused(fmt.Errorf("%w: 群的 chatid 不对：删掉设置文件 [wecom] 的 chatid，让机器人从群里第一次@它时学会", desc))
	}
	return bot.Refused(desc)
}

// Upload sends a file over the long connection in chunks of at most 512 KiB
// (init, chunk × n, finish) and returns its media_id. typ is file, image,
// voice or video.
func (c *Client) Upload(ctx context.Context, typ, name string, data []byte) (string, error) {
	const chunk = 512 << 10
	n := (len(data) + chunk - 1) / chunk
	if len(data) < 5 || n > 100 || len(data) > 20<<20 {
		return "", bot.Refused(fmt.Errorf("upload %s: %d bytes: 企业微信只收 5 字节到 20MB 的文件", name, len(data)))
	}
	ans, err := c.Request(ctx, "aibot_upload_media_init", map[string]any{"type": typ, "filename": name, "total_size": len(data),
		"total_chunks": n, "md5": md5hex(data)})
	if err != nil {
		return "", err
	}
	if err := codeError("upload init", ans.Errcode, ans.Errmsg); err != nil {
		return "", err
	}
	var init struct {
		UploadID string `json:"upload_id"`
	}
	if err := json.Unmarshal(ans.Body, &init); err != nil || init.UploadID == "" {
		return "", bot.Retryable(fmt.Errorf("upload init: no upload_id in %s", ans.Body), 0)
	}
	for i := range n {
		part := data[i*chunk : min(len(data), (i+1)*chunk)]
		ans, err := c.Request(ctx, "aibot_upload_media_chunk", map[string]any{"upload_id": init.UploadID, "chunk_index": i,
			"base64_data": b64(part)})
		if err != nil {
			return "", err
		}
		if err := codeError(fmt.Sprintf("upload chunk %d", i), ans.Errcode, ans.Errmsg); err != nil {
			return "", err
		}
	}
	ans, err = c.Request(ctx, "aibot_upload_media_finish", map[string]any{"upload_id": init.UploadID})
	if err != nil {
		return "", err
	}
	if err := codeError("upload finish", ans.Errcode, ans.Errmsg); err != nil {
		return "", err
	}
	var fin struct {
		MediaID string `json:"media_id"`
	}
	if err := json.Unmarshal(ans.Body, &fin); err != nil || fin.MediaID == "" {
		return "", bot.Retryable(fmt.Errorf("upload finish: no media_id in %s", ans.Body), 0)
	}
	return fin.MediaID, nil
}
