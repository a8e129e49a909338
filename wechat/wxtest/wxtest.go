// Package wxtest is a fake web-WeChat server for tests: it speaks the endpoints
// openwechat v1.4.10 calls (login, contacts, sync, media, send, upload), so the
// real client can be driven end to end over loopback. Tests script contacts and
// inbound messages, inject failures (session expiry, throttling and other
// refused sends, sends that stall or lose their connection after the server
// took them, connections reset for a while, refused login, zero-byte media,
// slow responses) and read back everything the bot sent.
//
// Like the real server, it gives every contact a new UserName at every login,
// so a client that keeps ids across logins breaks here too.
package wxtest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Contact is a person (or the bot itself) as the server knows them.
type Contact struct {
	// ID is stable across logins; the UserName clients see is derived from it.
	ID       string
	NickName string
	// DisplayName is the name in the group (群昵称).
	DisplayName string
	// RemarkName is what the bot account calls a friend; set only for friends.
	RemarkName string
}

// Sent is one message the bot sent.
type Sent struct {
	At time.Time
	// Kind is "text", "image", "file" or "video".
	Kind string
	// To is "group:<name>" or "friend:<nickname>".
	To      string
	Content string
	// FileName is the uploaded file's name, for media.
	FileName string
}

// Server is the fake. Create it with New; configure it before the client logs in.
type Server struct {
	// Self is the bot's account.
	Self Contact
	// Group is the group the bot serves; Others are further groups the account sees.
	Group  string
	Others []string
	// Members are the group's members (the bot is added automatically).
	Members []Contact
	// Friends are the account's friends, with remark names.
	Friends []Contact

	srv       *httptest.Server
	closed    chan struct{} // closed by Close: stalled answers give up
	closeOnce sync.Once

	mu        sync.Mutex
	epoch     int // login count: UserNames change with it
	sid       string
	uuids     map[string]int // uuid -> polls so far
	refuse    bool
	noPush    bool
	expire    int   // retcode the next synccheck returns (1101, 1102), 0 for none
	faults    int   // sends left to fail with fault
	fault     Fault // what those sends get
	attempts  int   // send requests received, failed ones too
	resetTill time.Time
	resets    int // connections reset by ResetFor
	polls     int // synccheck answers with retcode 0
	slow      time.Duration
	zero      map[string]int // msg id -> downloads left that return no bytes
	media     map[string][]byte
	uploads   map[string]string       // media id -> file name
	files     map[string]string       // MediaId of a received file -> its message id
	fresh     bool                    // a login page was served and its webwxinit not yet
	strangers []Contact               // people who asked to be friends
	pending   []func() map[string]any // built at delivery, with that login's UserNames
	notify    chan struct{}
	sent      []Sent
	nextID    int
	logins    []string // "qr", "push", "hot"
	requests  []string
	syncKey   int
}

// New starts a fake server with a bot account and a group called group.
func New(group string) *Server {
	s := &Server{
		Self:    Contact{ID: "self", NickName: "报送机器人"},
		Group:   group,
		uuids:   map[string]int{},
		zero:    map[string]int{},
		media:   map[string][]byte{},
		uploads: map[string]string{},
		files:   map[string]string{},
		notify:  make(chan struct{}, 1),
		closed:  make(chan struct{}),
		nextID:  1000,
		syncKey: 100,
	}
	s.srv = httptest.NewServer(s)
	return s
}

// Close stops the server; stalled answers end. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// Transport sends every request the client makes to https://*.qq.com to the fake.
func (s *Server) Transport() http.RoundTripper {
	target, _ := url.Parse(s.srv.URL)
	return redirect{target}
}

type redirect struct{ target *url.URL }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	c := req.Clone(req.Context()) // Host stays wx.qq.com, webpush.wx.qq.com, …: the fake routes on it
	c.URL.Scheme, c.URL.Host = r.target.Scheme, r.target.Host
	return http.DefaultTransport.RoundTrip(c)
}

func (s *Server) userName(c Contact) string { return fmt.Sprintf("@%s_%d", c.ID, s.epoch) }
func (s *Server) groupName(name string) string {
	return fmt.Sprintf("@@%x_%d", name, s.epoch)
}

// RefuseLogin makes logins fail as WeChat refuses accounts (ret 1203).
func (s *Server) RefuseLogin(v bool) { s.mu.Lock(); s.refuse = v; s.mu.Unlock() }

// DisablePushLogin makes push login (免扫码) fail, so a scan is needed.
func (s *Server) DisablePushLogin(v bool) { s.mu.Lock(); s.noPush = v; s.mu.Unlock() }

// Expire ends the session: the next synccheck answers retcode (1100, 1101, 1102)
// and the session id no longer works for a hot login.
func (s *Server) Expire(retcode int) {
	s.mu.Lock()
	s.expire, s.sid = retcode, "expired"
	s.mu.Unlock()
	s.wake()
}

// Throttle answers the next n sends with Ret 1205 (操作太频繁).
func (s *Server) Throttle(n int) { s.FailSends(n, Fault{Ret: 1205}) }

// Fault is how the server fails a send (text, image, file or video message;
// uploads are not affected). Set one of Ret, Stall, Reset and Garble.
type Fault struct {
	// Ret answers with this BaseResponse.Ret: 1205 too often, 1101 expired,
	// others a refusal of the message. The message is not taken.
	Ret int
	// Take records the message as sent before a Stall, Reset or Garble, as a
	// server that processed the request and then failed to answer would.
	Take bool
	// Stall holds the answer until the client gives up (its timeout) or the
	// server closes.
	Stall bool
	// Reset closes the connection (TCP RST) instead of answering.
	Reset bool
	// Garble answers 502 with an HTML page, which is not WeChat's JSON.
	Garble bool
}

// FailSends fails the next n sends with f; n = 0 clears it.
func (s *Server) FailSends(n int, f Fault) {
	s.mu.Lock()
	s.faults, s.fault = n, f
	s.mu.Unlock()
}

// Attempts is how many send requests came, including failed ones.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// ResetFor resets the connection of every request that comes in the next d,
// as a network in trouble does; requests already being answered finish.
func (s *Server) ResetFor(d time.Duration) {
	s.mu.Lock()
	s.resetTill = time.Now().Add(d)
	s.mu.Unlock()
}

// Resets is how many requests ResetFor turned away so far.
func (s *Server) Resets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resets
}

// Polls is how many synccheck polls were answered without error so far.
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// reset closes the connection under w with a TCP RST, so that the client
// sees "connection reset by peer" rather than an orderly close.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// Slow delays every response by d.
func (s *Server) Slow(d time.Duration) { s.mu.Lock(); s.slow = d; s.mu.Unlock() }

// ZeroBytes makes the next n downloads of a message's media return no bytes.
func (s *Server) ZeroBytes(msgID string, n int) { s.mu.Lock(); s.zero[msgID] = n; s.mu.Unlock() }

// Logins lists how the client logged in so far: "qr", "push" or "hot".
func (s *Server) Logins() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

// SentMessages returns everything sent so far.
func (s *Server) SentMessages() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// WaitSent waits until at least n messages were sent, or the timeout.
func (s *Server) WaitSent(n int, timeout time.Duration) []Sent {
	deadline := time.Now().Add(timeout)
	for {
		got := s.SentMessages()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Server) member(id string) Contact {
	for _, c := range append(append([]Contact{}, s.Members...), s.Friends...) {
		if c.ID == id {
			return c
		}
	}
	return Contact{ID: id, NickName: id}
}

// push queues a message; build makes it when it is delivered, since the
// UserNames in it depend on the login then. Callers hold mu.
func (s *Server) push(id string, build func() map[string]any) string {
	if id == "" {
		s.nextID++
		id = strconv.Itoa(s.nextID)
	}
	at := time.Now().Unix()
	s.pending = append(s.pending, func() map[string]any {
		m := build()
		m["MsgId"], m["CreateTime"], m["ToUserName"] = id, at, s.userName(s.Self)
		return m
	})
	return id
}

// groupMsg queues a group message from member id; content goes after the sender prefix.
func (s *Server) groupMsg(from string, typ int, content string, extra map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	return s.push("", func() map[string]any {
		m := map[string]any{"MsgType": typ, "FromUserName": s.groupName(s.Group),
			"Content": s.userName(s.member(from)) + ":<br/>" + content}
		for k, v := range extra {
			m[k] = v
		}
		return m
	})
}

// Text queues a group text from member id; at prefixes "@报送机器人 " as the phone does.
func (s *Server) Text(from, text string, at bool) string {
	if at {
		text = "@" + s.Self.NickName + "\u2005" + text
	}
	return s.groupMsg(from, 1, html.EscapeString(text), nil)
}

// Image queues a group picture.
func (s *Server) Image(from string, data []byte) string {
	content := html.EscapeString(fmt.Sprintf(`<?xml version="1.0"?><msg><img aeskey="k" length="%d" md5="m" /></msg>`, len(data)))
	id := s.groupMsg(from, 3, content, nil)
	s.mu.Lock()
	s.media[id] = data
	s.mu.Unlock()
	return id
}

// AnnouncedImage queues a picture whose announced size differs from its data,
// such as a huge one whose download should never start.
func (s *Server) AnnouncedImage(from string, size int64) string {
	content := html.EscapeString(fmt.Sprintf(`<?xml version="1.0"?><msg><img aeskey="k" length="%d" md5="m" /></msg>`, size))
	return s.groupMsg(from, 3, content, nil)
}

// File queues a group file (an attachment, AppMsgType 6).
func (s *Server) File(from, name string, data []byte) string {
	content := html.EscapeString(fmt.Sprintf(`<msg><appmsg appid="" sdkver="0"><title>%s</title><type>6</type><appattach><totallen>%d</totallen><attachid>@cdn_x</attachid><fileext>%s</fileext></appattach></appmsg></msg>`,
		name, len(data), strings.TrimPrefix(name[strings.LastIndex(name, ".")+1:], ".")))
	s.mu.Lock()
	mediaID := fmt.Sprintf("@media_%d", len(s.files)+1)
	s.mu.Unlock()
	id := s.groupMsg(from, 49, content, map[string]any{"AppMsgType": 6, "FileName": name,
		"FileSize": strconv.Itoa(len(data)), "MediaId": mediaID, "EncryFileName": url.QueryEscape(name)})
	s.mu.Lock()
	s.media[id] = data
	s.files[mediaID] = id
	s.mu.Unlock()
	return id
}

// Video queues a group video.
func (s *Server) Video(from string, data []byte) string {
	content := html.EscapeString(fmt.Sprintf(`<?xml version="1.0"?><msg><videomsg aeskey="k" length="%d" playlength="3" /></msg>`, len(data)))
	id := s.groupMsg(from, 43, content, nil)
	s.mu.Lock()
	s.media[id] = data
	s.mu.Unlock()
	return id
}

// Recall queues the member's recall (撤回) of message id.
func (s *Server) Recall(from, id string) string {
	content := html.EscapeString(fmt.Sprintf(`<sysmsg type="revokemsg"><revokemsg><session>x</session><oldmsgid>1</oldmsgid><msgid>%s</msgid><replacemsg><![CDATA["%s" 撤回了一条消息]]></replacemsg></revokemsg></sysmsg>`,
		id, s.member(from).NickName))
	return s.groupMsg(from, 10002, content, nil)
}

// Join adds c to the group, as an invitation does, and queues the group's
// system message about it.
func (s *Server) Join(c Contact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	s.Members = append(s.Members, c)
	s.systemMsg(fmt.Sprintf("\"%s\"邀请\"%s\"加入了群聊", s.Self.NickName, c.NickName))
}

// Remove takes member id out of the group and queues the group's system
// message about it, as the owner's removal does.
func (s *Server) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	for i, c := range s.Members {
		if c.ID == id {
			s.Members = append(s.Members[:i:i], s.Members[i+1:]...)
			s.systemMsg(fmt.Sprintf("你将\"%s\"移出了群聊", c.NickName))
			return
		}
	}
}

// systemMsg queues a system message (MsgType 10000) of the group. Callers hold mu.
func (s *Server) systemMsg(content string) {
	s.push("", func() map[string]any {
		return map[string]any{"MsgType": 10000, "FromUserName": s.groupName(s.Group), "Content": content}
	})
}

// Replay queues an already delivered message again, as a hot login can.
func (s *Server) Replay(from, id, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	s.push(id, func() map[string]any {
		return map[string]any{"MsgType": 1, "FromUserName": s.groupName(s.Group),
			"Content": s.userName(s.member(from)) + ":<br/>" + html.EscapeString(text)}
	})
}

// PrivateText queues a private text from a friend.
func (s *Server) PrivateText(friend, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	return s.push("", func() map[string]any {
		return map[string]any{"MsgType": 1, "FromUserName": s.userName(s.member(friend)), "Content": html.EscapeString(text)}
	})
}

// FriendRequest queues a friend request (加好友) from contact id, a member of
// the group or a stranger. Accepting it makes them a friend, without a remark name.
func (s *Server) FriendRequest(c Contact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	s.strangers = append(s.strangers, c)
	s.push("", func() map[string]any {
		content := html.EscapeString(fmt.Sprintf(`<msg fromusername="%s" fromnickname="%s" content="我是%s" />`, s.userName(c), c.NickName, c.NickName))
		return map[string]any{"MsgType": 37, "FromUserName": "fmessage", "Content": content,
			"RecommendInfo": map[string]any{"UserName": s.userName(c), "NickName": c.NickName, "Ticket": "ticket"}}
	})
}

// IsFriend reports whether contact id is a friend of the bot's account.
func (s *Server) IsFriend(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.Friends {
		if f.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) verifyUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VerifyUserList []struct{ Value string }
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range req.VerifyUserList {
		for _, c := range append(append([]Contact{}, s.Members...), s.strangers...) {
			if s.userName(c) == v.Value && !containsID(s.Friends, c.ID) {
				c.RemarkName = ""
				s.Friends = append(s.Friends, c)
			}
		}
	}
	writeJSON(w, map[string]any{"BaseResponse": ok()})
}

func containsID(cs []Contact, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/plain")
	_ = json.NewEncoder(w).Encode(v)
}

func ok() map[string]any { return map[string]any{"Ret": 0, "ErrMsg": ""} }

// failed answers with a BaseResponse carrying ret, as the server does for errors.
func failed(w http.ResponseWriter, ret int) {
	writeJSON(w, map[string]any{"BaseResponse": map[string]any{"Ret": ret, "ErrMsg": ""}})
}

func (s *Server) contact(c Contact) map[string]any {
	return map[string]any{"UserName": s.userName(c), "NickName": c.NickName, "DisplayName": c.DisplayName,
		"RemarkName": c.RemarkName, "Uin": 0, "AttrStatus": 0, "ContactFlag": 3}
}

func (s *Server) syncKeyJSON() map[string]any {
	return map[string]any{"Count": 2, "List": []map[string]int{{"Key": 1, "Val": s.syncKey}, {"Key": 2, "Val": s.syncKey}}}
}

// ServeHTTP routes on the host the client asked for and the path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	slow := s.slow
	s.requests = append(s.requests, r.Host+r.URL.Path)
	down := time.Now().Before(s.resetTill)
	s.mu.Unlock()
	if down {
		s.mu.Lock()
		s.resets++
		s.mu.Unlock()
		reset(w)
		return
	}
	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, "/cgi-bin/mmwebwx-bin/")
	switch r.Host + "/" + path {
	case "login.wx.qq.com//jslogin":
		s.mu.Lock()
		uuid := fmt.Sprintf("uuid-%d", len(s.uuids)+1)
		s.uuids[uuid] = 0
		s.mu.Unlock()
		fmt.Fprintf(w, `window.QRLogin.code = 200; window.QRLogin.uuid = "%s";`, uuid)
	case "login.wx.qq.com/login":
		s.checkLogin(w, r)
	case "wx.qq.com/webwxpushloginurl":
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.noPush || s.sid == "" {
			writeJSON(w, map[string]any{"ret": "1", "msg": "push login disabled"})
			return
		}
		uuid := fmt.Sprintf("push-%d", len(s.uuids)+1)
		s.uuids[uuid] = 1 // the phone confirms at once
		writeJSON(w, map[string]any{"ret": "0", "msg": "", "uuid": uuid})
	case "wx.qq.com/webwxnewloginpage":
		s.newLoginPage(w, r)
	case "wx.qq.com/webwxinit":
		s.webInit(w, r)
	case "wx.qq.com/webwxstatusnotify":
		writeJSON(w, map[string]any{"BaseResponse": ok(), "MsgID": "1"})
	case "wx.qq.com/webwxgetcontact":
		s.getContact(w)
	case "wx.qq.com/webwxbatchgetcontact":
		s.batchGetContact(w, r)
	case "webpush.wx.qq.com/synccheck":
		s.syncCheck(w, r)
	case "wx.qq.com/webwxsync":
		s.mu.Lock()
		var msgs []map[string]any
		for _, build := range s.pending {
			msgs = append(msgs, build())
		}
		s.pending = nil
		s.syncKey++
		sk := s.syncKeyJSON()
		s.mu.Unlock()
		writeJSON(w, map[string]any{"BaseResponse": ok(), "AddMsgCount": len(msgs), "AddMsgList": msgs, "SyncKey": sk, "SyncCheckKey": sk})
	case "wx.qq.com/webwxgetmsgimg", "wx.qq.com/webwxgetvideo":
		id := r.URL.Query().Get("MsgID")
		if id == "" {
			id = r.URL.Query().Get("msgid")
		}
		s.download(w, id)
	case "file.wx.qq.com/webwxgetmedia":
		s.mu.Lock()
		id := s.files[r.URL.Query().Get("mediaid")]
		s.mu.Unlock()
		s.download(w, id)
	case "wx.qq.com/webwxsendmsg":
		s.send(w, r, "text")
	case "wx.qq.com/webwxsendmsgimg":
		s.send(w, r, "image")
	case "wx.qq.com/webwxsendappmsg":
		s.send(w, r, "file")
	case "wx.qq.com/webwxsendvideomsg":
		s.send(w, r, "video")
	case "file.wx.qq.com/webwxuploadmedia":
		s.upload(w, r)
	case "wx.qq.com/webwxlogout":
		writeJSON(w, map[string]any{"BaseResponse": ok()})
	case "wx.qq.com/webwxverifyuser":
		s.verifyUser(w, r)
	case "wx.qq.com/webwxoplog":
		writeJSON(w, map[string]any{"BaseResponse": ok()})
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) checkLogin(w http.ResponseWriter, r *http.Request) {
	uuid := r.URL.Query().Get("uuid")
	s.mu.Lock()
	polls, known := s.uuids[uuid]
	s.uuids[uuid] = polls + 1
	push := strings.HasPrefix(uuid, "push-")
	s.mu.Unlock()
	switch {
	case !known:
		fmt.Fprint(w, `window.code=400;`)
	case polls == 0:
		fmt.Fprint(w, `window.code=201;window.userAvatar = 'data:img/jpg;base64,AAAA';`)
	default:
		kind := "qr"
		if push {
			kind = "push"
		}
		fmt.Fprintf(w, "window.code=200;\nwindow.redirect_uri=\"https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=T&uuid=%s&lang=zh_CN&scan=1&via=%s\";", uuid, kind)
	}
}

func (s *Server) newLoginPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse {
		fmt.Fprint(w, `<error><ret>1203</ret><message>为了你的帐号安全，此微信号不能登录网页微信。你可以使用Windows微信或Mac微信在电脑端登录。</message></error>`)
		return
	}
	s.epoch++
	s.sid = fmt.Sprintf("sid-%d", s.epoch)
	s.expire = 0
	s.fresh = true
	s.logins = append(s.logins, r.URL.Query().Get("via"))
	http.SetCookie(w, &http.Cookie{Name: "webwx_data_ticket", Value: "DT", Domain: ".qq.com", Path: "/"})
	http.SetCookie(w, &http.Cookie{Name: "wxsid", Value: s.sid, Domain: ".qq.com", Path: "/"})
	fmt.Fprintf(w, `<error><ret>0</ret><message></message><skey>@crypt_skey</skey><wxsid>%s</wxsid><wxuin>12345</wxuin><pass_ticket>PT</pass_ticket><isgrayscale>1</isgrayscale></error>`, s.sid)
}

type baseRequest struct {
	BaseRequest struct{ Sid string }
}

func (s *Server) webInit(w http.ResponseWriter, r *http.Request) {
	var req baseRequest
	_ = json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.BaseRequest.Sid != s.sid {
		failed(w, 1101) // a hot login with a session that expired
		return
	}
	if !s.fresh {
		s.logins = append(s.logins, "hot") // the session of an earlier login, reused
	}
	s.fresh = false
	writeJSON(w, map[string]any{"BaseResponse": ok(), "Count": 1, "User": s.contact(s.Self), "SyncKey": s.syncKeyJSON(),
		"ContactList": []any{map[string]any{"UserName": s.groupName(s.Group), "NickName": s.Group}}, "SKey": "@crypt_skey"})
}

func (s *Server) getContact(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []any{map[string]any{"UserName": s.groupName(s.Group), "NickName": s.Group, "ContactFlag": 3}}
	for _, g := range s.Others {
		list = append(list, map[string]any{"UserName": s.groupName(g), "NickName": g, "ContactFlag": 3})
	}
	for _, f := range s.Friends {
		list = append(list, s.contact(f))
	}
	writeJSON(w, map[string]any{"BaseResponse": ok(), "MemberCount": len(list), "Seq": 0, "MemberList": list})
}

func (s *Server) batchGetContact(w http.ResponseWriter, r *http.Request) {
	var body struct{ List []struct{ UserName string } }
	_ = json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []any
	for _, it := range body.List {
		found := false
		for _, g := range append([]string{s.Group}, s.Others...) {
			if it.UserName != s.groupName(g) {
				continue
			}
			found = true
			members := []any{s.contact(s.Self)}
			if g == s.Group {
				for _, m := range s.Members {
					members = append(members, s.contact(m))
				}
			}
			list = append(list, map[string]any{"UserName": it.UserName, "NickName": g, "MemberList": members, "MemberCount": len(members)})
		}
		if !found {
			for _, c := range append(append(append([]Contact{}, s.Members...), s.Friends...), s.strangers...) {
				if s.userName(c) == it.UserName {
					list = append(list, s.contact(c))
					found = true
					break
				}
			}
		}
		if !found {
			list = append(list, map[string]any{"UserName": it.UserName, "NickName": it.UserName})
		}
	}
	writeJSON(w, map[string]any{"BaseResponse": ok(), "Count": len(list), "ContactList": list})
}

func (s *Server) syncCheck(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n, expire := len(s.pending), s.expire
	s.mu.Unlock()
	if n == 0 && expire == 0 {
		// Hold the poll as the real server does, so the client does not spin.
		select {
		case <-s.notify:
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
		n, expire = len(s.pending), s.expire
		s.mu.Unlock()
	}
	if expire != 0 {
		fmt.Fprintf(w, `window.synccheck={retcode:"%d",selector:"0"}`, expire)
		return
	}
	sel := "0"
	if n > 0 {
		sel = "2"
	}
	s.mu.Lock()
	s.polls++
	s.mu.Unlock()
	fmt.Fprintf(w, `window.synccheck={retcode:"0",selector:"%s"}`, sel)
}

func (s *Server) download(w http.ResponseWriter, id string) {
	s.mu.Lock()
	data, ok := s.media[id]
	if s.zero[id] > 0 {
		s.zero[id]--
		data = nil
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

type sendRequest struct {
	BaseRequest struct{ Sid string }
	Msg         struct {
		Type       int
		Content    string
		ToUserName string
		MediaId    string
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request, kind string) {
	var req sendRequest
	_ = json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	s.attempts++
	if req.BaseRequest.Sid != s.sid {
		s.mu.Unlock()
		failed(w, 1101) // the session expired: the real server refuses sends too
		return
	}
	var fault Fault
	if s.faults > 0 {
		s.faults--
		fault = s.fault
	}
	if fault.Ret != 0 {
		s.mu.Unlock()
		failed(w, fault.Ret)
		return
	}
	if fault == (Fault{}) || fault.Take {
		s.record(req, kind)
	}
	id := strconv.Itoa(9000 + len(s.sent))
	s.mu.Unlock()
	switch {
	case fault.Stall:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
	case fault.Reset:
		reset(w)
	case fault.Garble:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	default:
		writeJSON(w, map[string]any{"BaseResponse": ok(), "MsgID": id, "LocalID": "x"})
	}
}

// record keeps a message as sent. Callers hold mu.
func (s *Server) record(req sendRequest, kind string) {
	to := "unknown:" + req.Msg.ToUserName
	if req.Msg.ToUserName == s.groupName(s.Group) {
		to = "group:" + s.Group
	}
	for _, f := range s.Friends {
		if req.Msg.ToUserName == s.userName(f) {
			to = "friend:" + f.NickName
		}
	}
	sent := Sent{At: time.Now(), Kind: kind, To: to, Content: req.Msg.Content, FileName: s.uploads[req.Msg.MediaId]}
	if kind == "file" {
		// The file's name travels in the app message's title.
		if i, j := strings.Index(req.Msg.Content, "<title>"), strings.Index(req.Msg.Content, "</title>"); i >= 0 && j > i {
			sent.FileName = req.Msg.Content[i+len("<title>") : j]
		}
	}
	s.sent = append(s.sent, sent)
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name := r.FormValue("name")
	if f, h, err := r.FormFile("filename"); err == nil {
		io.Copy(io.Discard, f)
		f.Close()
		if name == "" {
			name = h.Filename
		}
	}
	if r.FormValue("webwx_data_ticket") != "DT" {
		// What the real server does when the upload lacks the data ticket cookie.
		failed(w, 1)
		return
	}
	s.mu.Lock()
	id := fmt.Sprintf("@crypt_upload_%d", len(s.uploads)+1)
	s.uploads[id] = name
	s.mu.Unlock()
	writeJSON(w, map[string]any{"BaseResponse": ok(), "MediaId": id, "StartPos": 0})
}
