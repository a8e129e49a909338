// Package web is the coordinators' dashboard, served by the bot itself: the
// unit × period matrix, each unit's material with photo thumbnails, a period's
// gallery, the schedule with an editor that validates before it saves, the
// exports, and the bot's status with the login QR code when the platform needs a scan.
// Each page is of one campaign, with a switcher when several are in force.
// Nothing is shown without signing in through a one-time link the bot sends an
// admin privately (看板); sessions expire, forms carry a CSRF token, media are
// served only by content hash, and no page runs a script.
package web

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/schedules"
)

//go:embed templates static
var files embed.FS

// Source is what the pages read: the store.
type Source interface {
	export.Source
	// The print-size copies, upright, from which the gallery and the
	// thumbnails are shown: made once, on first use if not before.
	export.PrintCache
	Thumb(sum string) ([]byte, error)
	PutThumb(sum string, data []byte) error
}

// Status is the bot's state for the status page.
type Status struct {
	// Transport is how the chat platform is, with the login QR code while one waits for a scan.
	Transport bot.TransportStatus
	// Pending is how many messages wait to be sent.
	Pending    int
	StoreBytes int64
	// DiskFree and DiskUsedPercent are the filesystem of the data
	// directory; DiskKnown is false where it cannot be read (not Linux).
	// DiskNearlyFull is set from the share at which the admins are alerted.
	DiskKnown       bool
	DiskFree        int64
	DiskUsedPercent float64
	DiskNearlyFull  bool
	LastBackup      string
}

// Options build a Server.
type Options struct {
	Config *bot.Config
	// Campaigns are the campaigns in force; every page shows one of them.
	Campaigns func() *schedules.Set
	Source    Source
	// SaveSchedule validates a campaign's new schedule text, writes it to
	// that campaign's file and puts it in force the way a file edit would; it
	// returns what will be sent next.
	SaveSchedule func(c *schedules.Schedule, text string) (string, error)
	// Mark marks a unit's period, as the chat command 标记 does.
	Mark   func(t *schedules.Task, n int, unit string, st bot.Status, by string) error
	Status func() Status
	Now    func() time.Time
	Logger zerolog.Logger
	// URL is how admins reach the dashboard ("http://127.0.0.1:8080", or the
	// reverse proxy's https address); sign-in links start with it.
	URL string
	// LinkTTL is how long a sign-in link works (default 10 minutes);
	// SessionTTL how long a session lasts (default 12 hours).
	LinkTTL, SessionTTL time.Duration
}

// Server serves the dashboard.
type Server struct {
	o        Options
	mux      *http.ServeMux
	pages    *template.Template
	mu       sync.Mutex
	links    map[string]grant // one-time sign-in tokens
	sessions map[string]session
	flashes  map[string]flash // messages a redirect carries to the next page, by random id
}

// flash is a message the server wrote for one session's next page: the URL
// carries only its id, so that no link can make the dashboard show an admin
// text it did not write itself.
type flash struct {
	text    string
	csrf    string // the session's, which no one else knows
	expires time.Time
}

// maxFlashes bounds the flashes kept: a redirect is followed at once.
const maxFlashes = 256

type grant struct {
	admin   string
	expires time.Time
}

type session struct {
	admin   string
	csrf    string
	expires time.Time
}

// New makes the dashboard.
func New(o Options) (*Server, error) {
	if o.LinkTTL == 0 {
		o.LinkTTL = 10 * time.Minute
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pages, err := template.New("").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	s := &Server{o: o, pages: pages, links: map[string]grant{}, sessions: map[string]session{}, flashes: map[string]flash{}, mux: http.NewServeMux()}
	static, _ := fs.Sub(files, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	s.mux.HandleFunc("GET /login", s.login)
	s.mux.HandleFunc("POST /logout", s.auth(s.logout))
	s.mux.HandleFunc("GET /{$}", s.auth(s.overview))
	s.mux.HandleFunc("GET /task/{task}", s.auth(s.task))
	s.mux.HandleFunc("GET /cell/{task}/{period}/{unit}", s.auth(s.cell))
	s.mux.HandleFunc("POST /mark", s.auth(s.mark))
	s.mux.HandleFunc("GET /gallery/{task}/{period}", s.auth(s.gallery))
	s.mux.HandleFunc("GET /media/{sum}", s.auth(s.media))
	s.mux.HandleFunc("GET /thumb/{sum}", s.auth(s.thumb))
	s.mux.HandleFunc("GET /print/{sum}", s.auth(s.print))
	s.mux.HandleFunc("GET /schedule", s.auth(s.schedule))
	s.mux.HandleFunc("POST /schedule", s.auth(s.saveSchedule))
	s.mux.HandleFunc("GET /exports", s.auth(s.exports))
	s.mux.HandleFunc("GET /export/{kind}", s.auth(s.download))
	s.mux.HandleFunc("GET /status", s.auth(s.status))
	s.mux.HandleFunc("GET /status/qr.png", s.auth(s.qr))
	return s, nil
}

// ServeHTTP adds the security headers every answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

func token() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SignInLink makes a personal link that signs the admin in once, for LinkTTL.
func (s *Server) SignInLink(admin string) (string, error) {
	if !s.o.Config.IsAdmin(admin) {
		return "", errors.New("not an admin")
	}
	if s.o.URL == "" {
		return "", errors.New("[web] url is not set")
	}
	t := token()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	for k, g := range s.links {
		if now.After(g.expires) {
			delete(s.links, k)
		}
	}
	s.links[t] = grant{admin: admin, expires: now.Add(s.o.LinkTTL)}
	return strings.TrimRight(s.o.URL, "/") + "/login?t=" + t, nil
}

const cookieName = "reportbot_session"

// login trades a sign-in link for a session cookie; the link then no longer works.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("t")
	s.mu.Lock()
	g, ok := s.links[t]
	delete(s.links, t)
	now := s.o.Now()
	var id string
	if ok && now.Before(g.expires) {
		id = token()
		s.sessions[id] = session{admin: g.admin, csrf: token(), expires: now.Add(s.o.SessionTTL)}
	}
	s.mu.Unlock()
	if id == "" {
		s.o.Logger.Info().Msg("dashboard sign-in refused: unknown, used or expired link")
		s.render(w, http.StatusForbidden, "denied.html", page{Title: "登录链接无效", Message: "这个链接已经用过或已过期。请私聊机器人发送“看板”获取新的链接。"})
		return
	}
	s.o.Logger.Info().Str("admin", g.admin).Msg("dashboard sign-in")
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, // Lax: the link is opened from WeChat, another site; POSTs still need the CSRF token
		// Max-Age, not Expires: relative, so it does not depend on the browser's clock agreeing with ours.
		Secure: strings.HasPrefix(s.o.URL, "https://"), MaxAge: int(s.o.SessionTTL / time.Second)})
	// Leave the URL with the token behind at once.
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess session) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1})
	s.render(w, http.StatusOK, "denied.html", page{Title: "已退出", Message: "已退出看板。"})
}

type handler func(w http.ResponseWriter, r *http.Request, sess session)

// auth lets signed-in admins through; a POST must also carry the session's CSRF token.
func (s *Server) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		var sess session
		ok := false
		if err == nil {
			s.mu.Lock()
			sess, ok = s.sessions[c.Value]
			if ok && s.o.Now().After(sess.expires) {
				delete(s.sessions, c.Value)
				ok = false
			}
			s.mu.Unlock()
		}
		if !ok || !s.o.Config.IsAdmin(sess.admin) {
			s.render(w, http.StatusUnauthorized, "denied.html", page{Title: "请先登录", Message: "看板只对管理员开放：请私聊机器人发送“看板”，用它发来的链接登录。"})
			return
		}
		if r.Method == http.MethodPost {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.csrf)) != 1 {
				s.o.Logger.Warn().Str("admin", sess.admin).Str("path", r.URL.Path).Msg("dashboard: CSRF token missing or wrong")
				http.Error(w, "表单已过期，请刷新页面后重试", http.StatusForbidden)
				return
			}
		}
		h(w, r, sess)
	}
}

// page is what every template gets.
type page struct {
	Title   string
	Admin   string
	CSRF    string
	Message string
	Error   string
	Data    any
	// Q carries the campaign shown into links ("?campaign=june"), And does
	// after another parameter ("&campaign=june"); both are empty when there
	// is a single campaign, whose links stay as they were.
	Q, And template.URL
	// Campaigns is the switcher; empty for a single campaign.
	Campaigns []campaignLink
}

var funcs = template.FuncMap{
	"label":   func(st bot.Status) string { return st.Label() },
	"pathesc": url.PathEscape,
	"percent": func(a, b int) string {
		if b == 0 {
			return "—"
		}
		return strconv.Itoa(100*a/b) + "%"
	},
	"due":   schedules.FormatDue,
	"clock": func(t time.Time) string { return t.Format("1月2日 15:04") },
	"noun":  func(m schedules.Material) string { _, n := m.Noun(); return n },
	"size":  humanSize,
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func (s *Server) render(w http.ResponseWriter, code int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := s.pages.ExecuteTemplate(w, name, p); err != nil {
		s.o.Logger.Error().Err(err).Str("page", name).Msg("dashboard render")
	}
}

func (s *Server) ok(w http.ResponseWriter, r *http.Request, sess session, sc scope, name, title string, data any) {
	p := s.page(r, sess, sc, title, data)
	p.Message = s.flashed(sess, r.URL.Query().Get("msg"))
	s.render(w, http.StatusOK, name, p)
}

// flashMsg keeps text for the session's next page and returns the msg=
// query part that shows it.
func (s *Server) flashMsg(sess session, text string) string {
	id := token()[:16]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	for k, f := range s.flashes {
		if now.After(f.expires) || len(s.flashes) >= maxFlashes {
			delete(s.flashes, k)
		}
	}
	s.flashes[id] = flash{text: text, csrf: sess.csrf, expires: now.Add(s.o.LinkTTL)}
	return "msg=" + id
}

// flashed is the text kept under id for this session; an unknown, expired
// or someone else's id shows nothing.
func (s *Server) flashed(sess session, id string) string {
	if id == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flashes[id]
	if !ok || f.csrf != sess.csrf || s.o.Now().After(f.expires) {
		return ""
	}
	return f.text
}

// page is a signed-in page of the campaign sc.
func (s *Server) page(r *http.Request, sess session, sc scope, title string, data any) page {
	p := page{Title: title, Admin: sess.admin, CSRF: sess.csrf, Data: data}
	if q := sc.param(); q != "" {
		p.Q, p.And = template.URL("?"+q), template.URL("&"+q)
		p.Campaigns = s.switcher(r, sc)
	}
	return p
}

func (s *Server) notFound(w http.ResponseWriter, what string) {
	http.Error(w, "没有找到"+what, http.StatusNotFound)
}

func pathEsc(s string) string { return url.PathEscape(s) }
