package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

type fixture struct {
	t     *testing.T
	srv   *Server
	db    *store.DB
	now   time.Time
	sched atomic.Pointer[schedules.Schedule]
	photo string
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := bot.LoadConfig(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schedules.Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, now: time.Date(2026, 6, 4, 14, 0, 0, 0, s.Location)}
	f.sched.Store(s)
	at := time.Date(2026, 6, 3, 16, 30, 0, 0, s.Location)
	db.AddSubmission(&bot.Submission{MsgID: "1", Unit: "东风社区", Member: "东风社区-张三", Task: "weekly", Period: 1, At: at, Kind: schedules.Text, Text: "本周典型做法：消防疏散演练<script>alert(1)</script>"}, nil)
	photo := pngOf(800, 600)
	sum := sha256.Sum256(photo)
	f.photo = hex.EncodeToString(sum[:])
	db.AddSubmission(&bot.Submission{MsgID: "2", Unit: "东风社区", Member: "东风社区-张三", Task: "weekly", Period: 1, At: at, Kind: schedules.Image, Blob: f.photo, Size: int64(len(photo))}, photo)
	f.srv, err = New(Options{Config: cfg, Schedule: f.sched.Load, Source: db, Now: func() time.Time { return f.now }, Logger: zerolog.Nop(),
		URL: "http://bot.example", LinkTTL: 10 * time.Minute, SessionTTL: time.Hour,
		Mark: func(t *schedules.Task, n int, unit string, st bot.Status, by string) error {
			return db.SetMark(t.ID, n, unit, bot.Mark{Status: st, By: by, At: f.now})
		},
		SaveSchedule: func(text string) (string, error) {
			s, err := schedules.Parse("schedule.toml", []byte(text))
			if err != nil {
				return "", err
			}
			f.sched.Store(s)
			return "日程已重新载入", nil
		},
		Status: func() Status {
			return Status{Transport: bot.TransportStatus{Platform: "微信", State: "等待扫码", LoginQR: pngOf(10, 10)}, Pending: 2, StoreBytes: 12345}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) do(method, target string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

// signIn follows a fresh link and returns the session cookie and the CSRF token.
func (f *fixture) signIn() (*http.Cookie, string) {
	f.t.Helper()
	link, err := f.srv.SignInLink("王科长")
	if err != nil {
		f.t.Fatal(err)
	}
	u, _ := url.Parse(link)
	w := f.do("GET", u.RequestURI(), nil, nil)
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		f.t.Fatalf("sign-in: %d %v", w.Code, w.Result().Cookies())
	}
	c := w.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		f.t.Errorf("cookie %+v", c)
	}
	page := f.do("GET", "/", c, nil).Body.String()
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		f.t.Fatal("no CSRF token on the page")
	}
	csrf := page[i+len(`name="csrf" value="`):]
	return c, csrf[:strings.Index(csrf, `"`)]
}

var pages = []string{"/", "/task/weekly", "/cell/weekly/1/" + url.PathEscape("东风社区"), "/gallery/weekly/1", "/schedule", "/exports", "/status",
	"/export/workbook", "/export/report?task=weekly&period=1", "/export/archive?task=weekly&period=1", "/status/qr.png"}

func TestNothingWithoutSignIn(t *testing.T) {
	f := newFixture(t)
	for _, p := range append(pages, "/media/"+f.photo, "/thumb/"+f.photo) {
		w := f.do("GET", p, nil, nil)
		if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "东风社区-张三") {
			t.Errorf("GET %s without a session: %d", p, w.Code)
		}
	}
	if w := f.do("POST", "/mark", nil, url.Values{"task": {"weekly"}, "period": {"1"}, "unit": {"北岭村"}, "status": {"exempt"}}); w.Code != http.StatusUnauthorized {
		t.Errorf("POST /mark without a session: %d", w.Code)
	}
	if w := f.do("GET", "/healthz", nil, nil); w.Code != 200 || w.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body.String())
	}
	// A forged cookie is no session either.
	if w := f.do("GET", "/", &http.Cookie{Name: cookieName, Value: "forged"}, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("forged cookie: %d", w.Code)
	}
}

func TestSignInLinks(t *testing.T) {
	f := newFixture(t)
	if _, err := f.srv.SignInLink("东风社区-张三"); err == nil {
		t.Error("a link for someone who is not an admin")
	}
	link, _ := f.srv.SignInLink("王科长")
	u, _ := url.Parse(link)
	if u.Host != "bot.example" {
		t.Errorf("link %s", link)
	}
	if w := f.do("GET", u.RequestURI(), nil, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("first use: %d", w.Code)
	}
	if w := f.do("GET", u.RequestURI(), nil, nil); w.Code != http.StatusForbidden {
		t.Errorf("second use of a link: %d", w.Code)
	}
	// An expired link.
	link, _ = f.srv.SignInLink("王科长")
	u, _ = url.Parse(link)
	f.now = f.now.Add(11 * time.Minute)
	if w := f.do("GET", u.RequestURI(), nil, nil); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "看板") {
		t.Errorf("expired link: %d", w.Code)
	}
	// An expired session.
	c, _ := f.signIn()
	f.now = f.now.Add(2 * time.Hour)
	if w := f.do("GET", "/", c, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("expired session: %d", w.Code)
	}
}

func TestEveryPage(t *testing.T) {
	f := newFixture(t)
	c, _ := f.signIn()
	want := map[string]string{
		"/":            "本周典型做法、特色项目",
		"/task/weekly": `class="reported"`,
		"/cell/weekly/1/" + url.PathEscape("东风社区"): "/thumb/" + f.photo,
		"/gallery/weekly/1":                    "/media/" + f.photo,
		"/schedule":                            "接下来14天要发的消息",
		"/exports":                             "/export/report?task=weekly&amp;period=1",
		"/status":                              "等待扫码",
		"/export/workbook":                     "PK",
		"/export/report?task=weekly&period=1":  "PK",
		"/export/archive?task=weekly&period=1": "PK",
		"/status/qr.png":                       "\x89PNG",
	}
	for _, p := range pages {
		w := f.do("GET", p, c, nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), want[p]) {
			t.Errorf("GET %s: %d, lacks %q", p, w.Code, want[p])
		}
		h := w.Header()
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", p, h)
		}
	}
	cell := f.do("GET", "/cell/weekly/1/"+url.PathEscape("东风社区"), c, nil).Body.String()
	if strings.Contains(cell, "<script>") || !strings.Contains(cell, "&lt;script&gt;") {
		t.Error("a member's text is not escaped")
	}
	overview := f.do("GET", "/", c, nil).Body.String()
	if !strings.Contains(overview, `<td class="reported"><a href="/cell/weekly/1/%E4%B8%9C%E9%A3%8E%E7%A4%BE%E5%8C%BA">已报`) {
		t.Error("the matrix cell of 东风社区 is not 已报 with its link")
	}
	if strings.Contains(overview, "<script") {
		t.Error("a page runs a script")
	}
	for _, p := range []string{"/task/nope", "/cell/weekly/9/x", "/gallery/nope/1", "/export/report?task=weekly&period=99", "/export/x"} {
		if w := f.do("GET", p, c, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
}

func TestMediaOnlyByHash(t *testing.T) {
	f := newFixture(t)
	c, _ := f.signIn()
	w := f.do("GET", "/media/"+f.photo, c, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/png" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "inline") {
		t.Errorf("photo: %d %v", w.Code, w.Header())
	}
	for _, p := range []string{"/media/..%2F..%2Fetc%2Fpasswd", "/media/" + strings.Repeat("0", 64), "/media/reportbot.db", "/thumb/../reportbot.db"} {
		if w := f.do("GET", p, c, nil); w.Code == 200 {
			t.Errorf("GET %s served", p)
		}
	}
	// The thumbnail is made once and kept in the store.
	w = f.do("GET", "/thumb/"+f.photo, c, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumb: %d %v", w.Code, w.Header())
	}
	img, _, err := image.Decode(w.Body)
	if err != nil || img.Bounds().Dx() != thumbSize || img.Bounds().Dy() != 240 {
		t.Errorf("thumbnail %v %v", img.Bounds(), err)
	}
	if cached, _ := f.db.Thumb(f.photo); cached == nil {
		t.Error("the thumbnail is not cached")
	}
}

func TestMarkNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	c, csrf := f.signIn()
	form := url.Values{"task": {"weekly"}, "period": {"1"}, "unit": {"北岭村"}, "status": {"exempt"}}
	if w := f.do("POST", "/mark", c, form); w.Code != http.StatusForbidden {
		t.Errorf("without the token: %d", w.Code)
	}
	form.Set("csrf", "wrong")
	if w := f.do("POST", "/mark", c, form); w.Code != http.StatusForbidden {
		t.Errorf("with a wrong token: %d", w.Code)
	}
	if marks, _ := f.db.Marks("weekly", 1); len(marks) != 0 {
		t.Fatalf("marked without the token: %v", marks)
	}
	form.Set("csrf", csrf)
	w := f.do("POST", "/mark", c, form)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("with the token: %d", w.Code)
	}
	marks, _ := f.db.Marks("weekly", 1)
	if marks["北岭村"].Status != bot.Exempt || marks["北岭村"].By != "王科长" {
		t.Errorf("marks %v", marks)
	}
	if !strings.Contains(f.do("GET", w.Header().Get("Location"), c, nil).Body.String(), "已标记为免报") {
		t.Error("no confirmation after marking")
	}
	form.Set("status", "reported-and-more")
	if w := f.do("POST", "/mark", c, form); w.Code != http.StatusBadRequest {
		t.Errorf("bad status: %d", w.Code)
	}
}

func TestScheduleEditorRefusesInvalid(t *testing.T) {
	f := newFixture(t)
	c, csrf := f.signIn()
	before := f.sched.Load()
	bad := strings.Replace(before.Text, `cron = "0 12 * * THU"`, `cron = "0 12 * * THUR"`, 1)
	w := f.do("POST", "/schedule", c, url.Values{"csrf": {csrf}, "text": {bad}})
	line := strings.Count(bad[:strings.Index(bad, "THUR")], "\n") + 1
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "schedule.toml:"+strconv.Itoa(line)+":") || !strings.Contains(w.Body.String(), "THUR") {
		t.Errorf("invalid schedule: %d, want the error at line %d", w.Code, line)
	}
	if f.sched.Load() != before {
		t.Fatal("the running schedule changed")
	}
	if w := f.do("POST", "/schedule", c, url.Values{"text": {bad}}); w.Code != http.StatusForbidden {
		t.Errorf("without CSRF: %d", w.Code)
	}
	good := strings.Replace(before.Text, `cron = "0 12 * * THU"`, `cron = "0 12 * * WED"`, 1)
	w = f.do("POST", "/schedule", c, url.Values{"csrf": {csrf}, "text": {good}})
	if w.Code != http.StatusSeeOther || f.sched.Load().TaskByID("weekly").Periods[0].Due.Weekday() != time.Wednesday {
		t.Errorf("valid schedule: %d", w.Code)
	}
}
