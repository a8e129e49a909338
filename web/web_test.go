package web

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/xuri/excelize/v2"

	"reportbot/bot"
	"reportbot/photo/phototest"
	"reportbot/schedules"
	"reportbot/store"
)

type fixture struct {
	t     *testing.T
	srv   *Server
	db    *store.DB
	now   time.Time
	set   atomic.Pointer[schedules.Set]
	photo string
	// disk is what the status page says of the disk (DiskKnown and after).
	disk Status
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

// exampleText is the example schedule file.
func exampleText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newFixture is the dashboard over the example campaign alone, without an
// id, with a text and a photo of 东风社区 for the first weekly period.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := schedules.Parse("schedule.toml", []byte(exampleText(t)))
	if err != nil {
		t.Fatal(err)
	}
	f := serve(t, time.Date(2026, 6, 4, 14, 0, 0, 0, s.Location), s)
	at := time.Date(2026, 6, 3, 16, 30, 0, 0, s.Location)
	f.db.AddSubmission(&bot.Submission{MsgID: "1", Unit: "东风社区", Member: "东风社区-张三", Task: "weekly", Period: 1, At: at, Kind: schedules.Text, Text: "本周典型做法：消防疏散演练<script>alert(1)</script>"}, nil)
	photo := pngOf(800, 600)
	sum := sha256.Sum256(photo)
	f.photo = hex.EncodeToString(sum[:])
	f.db.AddSubmission(&bot.Submission{MsgID: "2", Unit: "东风社区", Member: "东风社区-张三", Task: "weekly", Period: 1, At: at, Kind: schedules.Image, Blob: f.photo, Size: int64(len(photo))}, photo)
	return f
}

// serve is the dashboard over the campaigns given and an empty store, at now.
func serve(t *testing.T, now time.Time, campaigns ...*schedules.Schedule) *fixture {
	t.Helper()
	cfg, err := bot.LoadConfig(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := schedules.NewSet(campaigns...)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, db: db, now: now}
	f.set.Store(set)
	f.srv, err = New(Options{Config: cfg, Campaigns: f.set.Load, Source: db, Now: func() time.Time { return f.now }, Logger: zerolog.Nop(),
		URL: "http://bot.example", LinkTTL: 10 * time.Minute, SessionTTL: time.Hour,
		Mark: func(t *schedules.Task, n int, unit string, st bot.Status, by string) error {
			return db.SetMark(t.Key, n, unit, bot.Mark{Status: st, By: by, At: f.now})
		},
		// As the app does: the campaign's own file, the others left as they are.
		SaveSchedule: func(c *schedules.Schedule, text string) (string, error) {
			s, err := schedules.Parse(c.Source, []byte(text))
			if err != nil {
				return "", err
			}
			list := []*schedules.Schedule{s}
			for _, other := range f.set.Load().All() {
				if other != c {
					list = append(list, other)
				}
			}
			set, err := schedules.NewSet(list...)
			if err != nil {
				return "", err
			}
			f.set.Store(set)
			return "日程已重新载入", nil
		},
		Status: func() Status {
			return Status{Transport: bot.TransportStatus{Platform: "微信", State: "等待扫码", LoginQR: pngOf(10, 10)}, Pending: 2, StoreBytes: 12345,
				DiskKnown: f.disk.DiskKnown, DiskFree: f.disk.DiskFree, DiskUsedPercent: f.disk.DiskUsedPercent, DiskNearlyFull: f.disk.DiskNearlyFull}
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
	"/export/workbook", "/export/report?task=weekly&period=1", "/export/archive?task=weekly&period=1", "/export/photos?task=weekly&period=1", "/status/qr.png"}

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
		"/gallery/weekly/1":                    "/print/" + f.photo,
		"/schedule":                            "接下来14天要发的消息",
		"/exports":                             "/export/report?task=weekly&amp;period=1",
		"/status":                              "等待扫码",
		"/export/workbook":                     "PK",
		"/export/report?task=weekly&period=1":  "PK",
		"/export/archive?task=weekly&period=1": "PK",
		"/export/photos?task=weekly&period=1":  "PK",
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
	if !strings.Contains(overview, `<td class="reported now"><a href="/cell/weekly/1/%E4%B8%9C%E9%A3%8E%E7%A4%BE%E5%8C%BA">已报`) {
		t.Error("the matrix cell of 东风社区 is not 已报 in the current period with its link")
	}
	if strings.Contains(overview, "<script") {
		t.Error("a page runs a script")
	}
	if strings.Contains(overview, `class="campaigns"`) || strings.Contains(overview, "campaign=") {
		t.Error("a single campaign's pages have a campaign switcher or carry the campaign in links")
	}
	// The single campaign has no id: "" names it.
	if w := f.do("GET", "/task/weekly?campaign=", c, nil); w.Code != 200 || !strings.Contains(w.Body.String(), `class="reported"`) {
		t.Errorf("GET /task/weekly?campaign=: %d", w.Code)
	}
	for _, p := range []string{"/?campaign=anquan-2026-06", "/task/nope", "/cell/weekly/9/x", "/gallery/nope/1", "/export/report?task=weekly&period=99", "/export/x"} {
		if w := f.do("GET", p, c, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
}

// addPhotos gives 北岭村 two photos, a JPEG sent without a name and a PNG
// sent as a file, and a long text for weekly's first period; 南山村 a photo
// and no text; 西湖社区 a photo and its text in a Word file.
func (f *fixture) addPhotos() (jpegData, pngData []byte, at time.Time) {
	f.t.Helper()
	loc := f.set.Load().All()[0].Location
	at = time.Date(2026, 6, 4, 9, 15, 30, 0, loc)
	img := image.NewRGBA(image.Rect(0, 0, 300, 500))
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, nil); err != nil {
		f.t.Fatal(err)
	}
	jpegData, pngData = jb.Bytes(), pngOf(40, 30)
	long := "特色项目：" + strings.Repeat("组织村民开展燃气安全隐患排查，", 8)
	for _, sub := range []struct {
		bot.Submission
		data []byte
	}{
		{bot.Submission{MsgID: "b1", Unit: "北岭村", Member: "北岭村-李四", Kind: schedules.Text, Text: long}, nil},
		{bot.Submission{MsgID: "b2", Unit: "北岭村", Member: "北岭村-李四", Kind: schedules.Image}, jpegData},
		{bot.Submission{MsgID: "b3", Unit: "北岭村", Member: "北岭村-李四", Kind: schedules.Image, FileName: "现场.PNG"}, pngData},
		{bot.Submission{MsgID: "n1", Unit: "南山村", Member: "南山村-赵六", Kind: schedules.Image}, jpegData},
		{bot.Submission{MsgID: "x1", Unit: "西湖社区", Member: "西湖社区-王五", Kind: schedules.Image}, pngData},
		{bot.Submission{MsgID: "x2", Unit: "西湖社区", Member: "西湖社区-王五", Kind: schedules.File, FileName: "典型做法.docx"}, []byte("PK docx")},
	} {
		sum := sha256.Sum256(sub.data)
		if sub.data != nil {
			sub.Blob, sub.Size = hex.EncodeToString(sum[:]), int64(len(sub.data))
		}
		sub.Task, sub.Period, sub.At = "weekly", 1, at
		if _, err := f.db.AddSubmission(&sub.Submission, sub.data); err != nil {
			f.t.Fatal(err)
		}
	}
	return jpegData, pngData, at
}

// TestGalleryCards: each card shows its unit and the unit's text of the
// period, without the task's keyword label, escaped and shortened, and the
// page links the period's photos ZIP.
func TestGalleryCards(t *testing.T) {
	f := newFixture(t)
	f.addPhotos()
	c, _ := f.signIn()
	page := f.do("GET", "/gallery/weekly/1", c, nil).Body.String()
	cards := strings.Split(page, "<figure>")[1:]
	if len(cards) != 5 {
		t.Fatalf("%d cards, want 5:\n%s", len(cards), page)
	}
	tests := []struct {
		name       string
		card       int // in config order: 东风社区, 西湖社区, 南山村, then 北岭村's two
		has, lacks []string
	}{
		{"a text without its label, escaped", 0,
			[]string{"<b>东风社区</b>", `<span class="text">消防疏散演练&lt;script&gt;alert(1)&lt;/script&gt;</span>`}, []string{"本周典型做法", "title="}},
		{"a Word file for a text", 1, []string{"<b>西湖社区</b>", "文字说明见文件《典型做法.docx》"}, nil},
		{"no text", 2, []string{"<b>南山村</b>", "（没有文字说明）"}, nil},
		{"a long text shortened, whole on hover", 3,
			[]string{"<b>北岭村</b>", "组织村民开展燃气安全隐患排查，组织村民", "…</span>", `title="组织村民开展`}, []string{"特色项目："}},
		{"the same text on the unit's other photo", 4, []string{"<b>北岭村</b>", "…</span>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := cards[tt.card]
			for _, s := range tt.has {
				if !strings.Contains(card, s) {
					t.Errorf("card lacks %q:\n%s", s, card)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(card, s) {
					t.Errorf("card has %q:\n%s", s, card)
				}
			}
		})
	}
	if !strings.Contains(page, `href="/export/photos?task=weekly&amp;period=1">下载本期全部照片</a>`) {
		t.Error("no link to the photos ZIP")
	}
	if empty := f.do("GET", "/gallery/weekly/2", c, nil).Body.String(); strings.Contains(empty, "下载本期全部照片") {
		t.Error("a period without photos offers their ZIP")
	}
}

// TestPhotosZIP: the period's original photos, named by unit in config order,
// each dated when it was sent on the campaign's clock and flagged UTF-8.
func TestPhotosZIP(t *testing.T) {
	f := newFixture(t)
	jpegData, pngData, at := f.addPhotos()
	c, _ := f.signIn()
	if w := f.do("GET", "/export/photos?task=weekly&period=1", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("without a session: %d", w.Code)
	}
	w := f.do("GET", "/export/photos?task=weekly&period=1", c, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/zip" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), url.PathEscape("本周典型做法、特色项目-第1期-照片.zip")) {
		t.Fatalf("photos ZIP: %d %v", w.Code, w.Header())
	}
	z, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	photo, _ := f.db.Blob(f.photo)
	dongfeng := time.Date(2026, 6, 3, 16, 30, 0, 0, at.Location())
	want := []struct {
		name string
		data []byte
		at   time.Time
	}{
		{"东风社区-1.png", photo, dongfeng},
		{"西湖社区-1.png", pngData, at},
		{"南山村-1.jpg", jpegData, at},
		{"北岭村-1.jpg", jpegData, at},
		{"北岭村-2.png", pngData, at},
	}
	if len(z.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(z.File), len(want))
	}
	for i, e := range z.File {
		t.Run(want[i].name, func(t *testing.T) {
			if e.Name != want[i].name {
				t.Errorf("entry %d is %q", i, e.Name)
			}
			if e.Flags&0x800 == 0 {
				t.Error("the name is not flagged UTF-8")
			}
			// The MS-DOS date has no zone: it must read as the campaign's clock did.
			if got := e.Modified; got.Year() < 1980 || got.Format("2006-01-02 15:04:05") != want[i].at.Format("2006-01-02 15:04:05") {
				t.Errorf("dated %v, want %v", got, want[i].at)
			}
			r, err := e.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(r)
			if !bytes.Equal(data, want[i].data) {
				t.Error("not the original photo")
			}
		})
	}
	if w := f.do("GET", "/export/photos?task=weekly&period=99", c, nil); w.Code != http.StatusNotFound {
		t.Errorf("a period that does not exist: %d", w.Code)
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

// goWords are words of Go's and the TOML decoder's error texts: an admin
// must never read them in the editor.
var goWords = regexp.MustCompile(`(?i)strconv|parsing|atoi|invalid syntax|incompatible|expected|instead|destination|int64|toml: `)

// TestScheduleEditorRefusesInvalid: a wrong edit is not saved; the page
// names the line in Chinese, quotes it, marks it in the editor's gutter, and
// keeps the text as edited.
func TestScheduleEditorRefusesInvalid(t *testing.T) {
	f := newFixture(t)
	c, csrf := f.signIn()
	before := f.set.Load().All()[0]
	tests := []struct {
		name, old, new string
		code           string // the line as the page quotes it
		msg            string
	}{
		{"a weekday cron cannot read", `cron = "0 12 * * THU"`, `cron = "0 12 * * THUR"`, `cron = &#34;0 12 * * THUR&#34;`, `第5段「周」&#34;THUR&#34; 无法识别`},
		{"a minute that is not a number", `cron = "0 12 * * THU"`, `cron = "x 12 * * THU"`, `cron = &#34;x 12 * * THU&#34;`, `第1段「分」&#34;x&#34; 无法识别`},
		{"a number without quotes", `quiet_hours = "21:00-08:00"`, `quiet_hours = 21`, `quiet_hours = 21`, "quiet_hours 应写成带英文双引号的文字"},
		{"Chinese quotes", `name = "活动方案"`, `name = “活动方案”`, `name = “活动方案”`, "中文标点 “"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(before.Text, tt.old, tt.new, 1)
			line := strconv.Itoa(strings.Count(bad[:strings.Index(bad, tt.new)], "\n") + 1)
			w := f.do("POST", "/schedule", c, url.Values{"csrf": {csrf}, "text": {bad}})
			body := w.Body.String()
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("invalid schedule: %d", w.Code)
			}
			for _, want := range []string{
				`<li><a href="#L` + line + `">第` + line + `行</a> <code>` + tt.code,
				tt.msg,
				`<span id="L` + line + `" class="bad">` + line + `</span>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s", want)
				}
			}
			if n := strings.Count(body, `class="bad"`); n != 1 {
				t.Errorf("%d lines marked, want 1", n)
			}
			// The text is kept as edited, its first line on the gutter's first.
			i := strings.Index(body, `aria-label="日程文件">`+"\n")
			j := strings.Index(body, "</textarea>")
			if i < 0 || j < i || html.UnescapeString(body[i+len(`aria-label="日程文件">`)+1:j]) != bad {
				t.Error("the editor does not hold the text as edited")
			}
			if w := goWords.FindString(body[:max(i, 0)] + body[j:]); w != "" {
				t.Errorf("Go text %q on the page", w)
			}
		})
	}
	if f.set.Load().All()[0] != before {
		t.Fatal("the running schedule changed")
	}
	if w := f.do("POST", "/schedule", c, url.Values{"text": {before.Text}}); w.Code != http.StatusForbidden {
		t.Errorf("without CSRF: %d", w.Code)
	}
	page := f.do("GET", "/schedule", c, nil).Body.String()
	lines := strings.Count(before.Text, "\n") + 1
	if !strings.Contains(page, `<span id="L1">1</span>`) || !strings.Contains(page, `<span id="L`+strconv.Itoa(lines)+`">`) || strings.Contains(page, `class="bad"`) {
		t.Error("the editor's gutter does not number every line")
	}
	good := strings.Replace(before.Text, `cron = "0 12 * * THU"`, `cron = "0 12 * * WED"`, 1)
	w := f.do("POST", "/schedule", c, url.Values{"csrf": {csrf}, "text": {good}})
	if w.Code != http.StatusSeeOther || f.set.Load().All()[0].TaskByID("weekly").Periods[0].Due.Weekday() != time.Wednesday {
		t.Errorf("valid schedule: %d", w.Code)
	}
}

// The two campaigns of the multi-campaign tests: June's 安全生产月 and a
// November one made from the same file, with the same task ids but for
// consult, which November calls inspect.
const (
	june     = "anquan-2026-06"
	november = "anquan-2026-11"
)

// newCampaigns is the dashboard in November over both campaigns, with a text
// from 东风社区 for June's first weekly period and one from 北岭村 for
// November's, each under its campaign's task key.
func newCampaigns(t *testing.T) *fixture {
	t.Helper()
	text := exampleText(t)
	withID := func(text, id string) string {
		return strings.Replace(text, "\nname = ", "\nid = \""+id+"\"\nname = ", 1)
	}
	j, err := schedules.Parse("june.toml", []byte(withID(text, june)))
	if err != nil {
		t.Fatal(err)
	}
	nov := strings.NewReplacer("2026-06-", "2026-11-", "2026-07-03", "2026-12-03", `"consult"`, `"inspect"`,
		`name = "2026年安全生产月"`, `name = "2026年11月隐患排查"`, `name = "6·16安全宣传咨询日活动"`, `name = "燃气安全检查"`).Replace(text)
	n, err := schedules.Parse("november.toml", []byte(withID(nov, november)))
	if err != nil {
		t.Fatal(err)
	}
	f := serve(t, time.Date(2026, 11, 5, 10, 0, 0, 0, n.Location), n, j)
	for _, sub := range []bot.Submission{
		{MsgID: "j1", Unit: "东风社区", Member: "东风社区-张三", Task: j.TaskByID("weekly").Key, Period: 1,
			At: time.Date(2026, 6, 3, 16, 30, 0, 0, j.Location), Kind: schedules.Text, Text: "六月：消防疏散演练"},
		{MsgID: "n1", Unit: "北岭村", Member: "北岭村-李四", Task: n.TaskByID("weekly").Key, Period: 1,
			At: time.Date(2026, 11, 4, 9, 0, 0, 0, n.Location), Kind: schedules.Text, Text: "十一月：燃气隐患排查"},
	} {
		if _, err := f.db.AddSubmission(&sub, nil); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// sentCell is the overview's cell of a unit that sent a text, no photo yet,
// for the first weekly period of a campaign; class is "partial", with " now"
// when that period is the current one.
func sentCell(class, unit, campaign string) string {
	return `<td class="` + class + `"><a href="/cell/weekly/1/` + url.PathEscape(unit) + `?campaign=` + campaign + `">部分`
}

func TestCampaignPages(t *testing.T) {
	f := newCampaigns(t)
	c, _ := f.signIn()
	dongfeng, beiling := url.PathEscape("东风社区"), url.PathEscape("北岭村")
	tests := []struct {
		name       string
		path       string
		code       int
		has, lacks []string
	}{
		{"the open campaign without a parameter", "/", 200,
			[]string{"<h1>2026年11月隐患排查</h1>", sentCell("partial now", "北岭村", november), `href="/task/weekly?campaign=` + november + `"`},
			[]string{`<a href="/cell/weekly/1/` + dongfeng + `?campaign=` + november + `">部分`}},
		{"a past campaign by its id", "/?campaign=" + june, 200,
			[]string{"<h1>2026年安全生产月</h1>", sentCell("partial", "东风社区", june), `href="/gallery/weekly/1?campaign=` + june + `"`},
			[]string{`<a href="/cell/weekly/1/` + beiling + `?campaign=` + june + `">部分`}},
		{"a past campaign's task", "/task/weekly?campaign=" + june, 200,
			[]string{sentCell("partial", "东风社区", june), `href="/schedule?campaign=` + june + `"`, `href="/exports?campaign=` + june + `"`},
			[]string{"十一月"}},
		{"a task only the past campaign has", "/task/consult?campaign=" + june, 200, []string{"6·16安全宣传咨询日活动"}, nil},
		{"that task in the other campaign", "/task/consult?campaign=" + november, 404, []string{"没有找到"}, nil},
		{"a cell of the past campaign", "/cell/weekly/1/" + dongfeng + "?campaign=" + june, 200,
			[]string{"六月：消防疏散演练", `href="/cell/weekly/1/` + dongfeng + `?mark=exempt&amp;campaign=` + june + `"`, `href="/gallery/weekly/1?campaign=` + june + `"`}, nil},
		{"a mark's confirmation in the past campaign", "/cell/weekly/1/" + dongfeng + "?mark=exempt&campaign=" + june, 200,
			[]string{"确认把 东风社区 「本周典型做法、特色项目」第1期 标记为 免报？", `action="/mark?campaign=` + june + `"`,
				`href="/cell/weekly/1/` + dongfeng + `?campaign=` + june + `">取消</a>`}, nil},
		{"the same cell in the other campaign", "/cell/weekly/1/" + dongfeng + "?campaign=" + november, 200,
			[]string{"这一期还没有报送"}, []string{"六月"}},
		{"a gallery of the past campaign", "/gallery/weekly/1?campaign=" + june, 200, []string{"这一期还没有照片"}, nil},
		{"the exports of the past campaign", "/exports?campaign=" + june, 200,
			[]string{`href="/export/workbook?campaign=` + june + `"`, `href="/export/report?task=weekly&amp;period=1&amp;campaign=` + june + `"`,
				`href="/export/archive?task=consult&amp;period=1&amp;campaign=` + june + `"`},
			[]string{"task=inspect"}},
		{"the exports of the open campaign", "/exports", 200,
			[]string{`href="/export/archive?task=inspect&amp;period=1&amp;campaign=` + november + `"`}, []string{"task=consult"}},
		{"the schedule of the past campaign", "/schedule?campaign=" + june, 200,
			[]string{"june.toml", `id = &#34;` + june + `&#34;`, `action="/schedule?campaign=` + june + `"`}, []string{"november.toml"}},
		{"the status keeps the campaign", "/status?campaign=" + june, 200, []string{`href="/?campaign=` + june + `"`}, nil},
		{"an unknown campaign", "/?campaign=nope", 404, []string{"没有找到这个活动"}, nil},
		{"no id when every campaign has one", "/task/weekly?campaign=", 404, []string{"没有找到这个活动"}, nil},
		{"an unknown campaign's export", "/export/workbook?campaign=nope", 404, []string{"没有找到这个活动"}, nil},
		{"a period the campaign lacks", "/export/report?task=weekly&period=99&campaign=" + june, 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", tt.path, c, nil)
			body := w.Body.String()
			if w.Code != tt.code {
				t.Fatalf("GET %s: %d, want %d", tt.path, w.Code, tt.code)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %s", tt.path, s)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(body, s) {
					t.Errorf("GET %s has %s", tt.path, s)
				}
			}
		})
	}
}

// TestCampaignDownloads: each campaign's exports hold its own material only.
func TestCampaignDownloads(t *testing.T) {
	f := newCampaigns(t)
	c, _ := f.signIn()
	tests := []struct {
		path       string
		has, lacks string // in a file's name or contents
	}{
		{"/export/archive?task=weekly&period=1&campaign=" + june, "东风社区", "北岭村"},
		{"/export/archive?task=weekly&period=1&campaign=" + november, "北岭村", "东风社区"},
		{"/export/archive?task=weekly&period=1", "北岭村", "东风社区"},
		{"/export/workbook?campaign=" + june, "6·16安全宣传咨询日活动", "燃气安全检查"},
		{"/export/workbook?campaign=" + november, "燃气安全检查", "6·16安全宣传咨询日活动"},
	}
	for _, tt := range tests {
		w := f.do("GET", tt.path, c, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d", tt.path, w.Code)
		}
		z, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
		if err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		var all strings.Builder
		for _, file := range z.File {
			all.WriteString(file.Name + "\n")
			r, err := file.Open()
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(&all, r)
			r.Close()
		}
		if !strings.Contains(all.String(), tt.has) || strings.Contains(all.String(), tt.lacks) {
			t.Errorf("GET %s: want %s and not %s", tt.path, tt.has, tt.lacks)
		}
	}
}

func TestCampaignSwitcher(t *testing.T) {
	f := newCampaigns(t)
	c, _ := f.signIn()
	dongfeng := url.PathEscape("东风社区")
	link := func(href, name, state string, current bool) string {
		a := `<a href="` + href + `"`
		if current {
			a += ` class="current" aria-current="page"`
		}
		return a + `>` + name + `<span class="state">` + state + `</span></a>`
	}
	tests := []struct {
		name string
		now  time.Time
		path string
		want []string // the switcher's links, in order
	}{
		{"the overview by default", time.Time{}, "/", []string{
			link("/?campaign="+june, "2026年安全生产月", "已结束", false),
			link("/?campaign="+november, "2026年11月隐患排查", "进行中", true)}},
		{"a cell keeps its place", time.Time{}, "/cell/weekly/1/" + dongfeng + "?campaign=" + november + "&msg=x", []string{
			link("/cell/weekly/1/"+dongfeng+"?campaign="+june, "2026年安全生产月", "已结束", false),
			link("/cell/weekly/1/"+dongfeng+"?campaign="+november, "2026年11月隐患排查", "进行中", true)}},
		{"a task the other lacks leads to its overview", time.Time{}, "/task/consult?campaign=" + june, []string{
			link("/task/consult?campaign="+june, "2026年安全生产月", "已结束", true),
			link("/?campaign="+november, "2026年11月隐患排查", "进行中", false)}},
		{"before either starts, the first to come", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), "/exports", []string{
			link("/exports?campaign="+june, "2026年安全生产月", "未开始", true),
			link("/exports?campaign="+november, "2026年11月隐患排查", "未开始", false)}},
		{"in June", time.Date(2026, 6, 10, 10, 0, 0, 0, time.UTC), "/schedule", []string{
			link("/schedule?campaign="+june, "2026年安全生产月", "进行中", true),
			link("/schedule?campaign="+november, "2026年11月隐患排查", "未开始", false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.now.IsZero() {
				defer func(now time.Time) { f.now = now }(f.now)
				f.now = tt.now
			}
			w := f.do("GET", tt.path, c, nil)
			body := w.Body.String()
			i := strings.Index(body, `<nav class="campaigns" aria-label="活动">`)
			if w.Code != 200 || i < 0 {
				t.Fatalf("GET %s: %d, switcher at %d", tt.path, w.Code, i)
			}
			nav := body[i:]
			nav = nav[:strings.Index(nav, "</nav>")]
			if got, want := strings.Count(nav, "<a "), len(tt.want); got != want {
				t.Errorf("%d campaigns in the switcher, want %d: %s", got, want, nav)
			}
			at := 0
			for _, l := range tt.want {
				j := strings.Index(nav[at:], l)
				if j < 0 {
					t.Fatalf("the switcher lacks, or has out of order, %s:\n%s", l, nav)
				}
				at += j + len(l)
			}
		})
	}
}

// TestCampaignMark: marking from a campaign's page writes under that
// campaign's task key only, and leads back to the cell in the campaign.
func TestCampaignMark(t *testing.T) {
	f := newCampaigns(t)
	c, csrf := f.signIn()
	keys := map[string]string{june: june + "/weekly", november: november + "/weekly"}
	for _, tt := range []struct{ campaign, other string }{{june, november}, {november, june}} {
		t.Run(tt.campaign, func(t *testing.T) {
			unit := map[string]string{june: "南山村", november: "西湖社区"}[tt.campaign]
			w := f.do("POST", "/mark?campaign="+tt.campaign, c, url.Values{"csrf": {csrf}, "task": {"weekly"}, "period": {"1"}, "unit": {unit}, "status": {"exempt"}})
			back := w.Header().Get("Location")
			if w.Code != http.StatusSeeOther || !strings.HasPrefix(back, "/cell/weekly/1/"+url.PathEscape(unit)+"?campaign="+tt.campaign+"&msg=") {
				t.Fatalf("mark: %d, back to %q", w.Code, back)
			}
			if marks, _ := f.db.Marks(keys[tt.campaign], 1); marks[unit].Status != bot.Exempt {
				t.Errorf("%s's marks %v", tt.campaign, marks)
			}
			for _, key := range []string{keys[tt.other], "weekly"} {
				if marks, _ := f.db.Marks(key, 1); len(marks[unit].Status) != 0 {
					t.Errorf("marked under %s too: %v", key, marks)
				}
			}
			page := f.do("GET", back, c, nil).Body.String()
			if !strings.Contains(page, "已标记为免报") || !strings.Contains(page, `<a href="/cell/weekly/1/`+url.PathEscape(unit)+`?campaign=`+tt.campaign+`" class="current"`) {
				t.Error("the cell after marking is not the campaign's, with the confirmation")
			}
		})
	}
	// A task of the other campaign is not found through this one.
	if w := f.do("POST", "/mark?campaign="+november, c, url.Values{"csrf": {csrf}, "task": {"consult"}, "period": {"1"}, "unit": {"南山村"}, "status": {"exempt"}}); w.Code != http.StatusBadRequest {
		t.Errorf("marking June's consult from November: %d", w.Code)
	}
	if w := f.do("POST", "/mark?campaign=nope", c, url.Values{"csrf": {csrf}, "task": {"weekly"}, "period": {"1"}, "unit": {"南山村"}, "status": {"exempt"}}); w.Code != http.StatusNotFound {
		t.Errorf("marking in an unknown campaign: %d", w.Code)
	}
}

// TestCampaignScheduleEditor: the editor saves the campaign shown, and comes
// back to it, under its new id if the edit gave it one.
func TestCampaignScheduleEditor(t *testing.T) {
	f := newCampaigns(t)
	c, csrf := f.signIn()
	campaign := func(id string) *schedules.Schedule {
		for _, s := range f.set.Load().All() {
			if s.ID == id {
				return s
			}
		}
		return nil
	}
	weekday := func(id string) time.Weekday { return campaign(id).TaskByID("weekly").Periods[0].Due.Weekday() }

	nov := campaign(november).Text
	bad := strings.Replace(nov, `cron = "0 12 * * THU"`, `cron = "0 12 * * THUR"`, 1)
	w := f.do("POST", "/schedule?campaign="+november, c, url.Values{"csrf": {csrf}, "text": {bad}})
	line := strings.Count(bad[:strings.Index(bad, "THUR")], "\n") + 1
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `<a href="#L`+strconv.Itoa(line)+`">第`+strconv.Itoa(line)+`行</a>`) ||
		!strings.Contains(body, `action="/schedule?campaign=`+november+`"`) || !strings.Contains(body, `<a href="/schedule?campaign=`+november+`" class="current"`) {
		t.Errorf("an invalid November: %d, want the error at line %d in November's editor", w.Code, line)
	}

	good := strings.Replace(campaign(june).Text, `cron = "0 12 * * THU"`, `cron = "0 12 * * WED"`, 1)
	w = f.do("POST", "/schedule?campaign="+june, c, url.Values{"csrf": {csrf}, "text": {good}})
	if back := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(back, "/schedule?campaign="+june+"&msg=") {
		t.Errorf("a valid June: %d, back to %q", w.Code, back)
	}
	if weekday(june) != time.Wednesday || weekday(november) != time.Thursday {
		t.Errorf("weekly is due on %v in June and %v in November, want Wednesday and Thursday", weekday(june), weekday(november))
	}

	renamed := strings.Replace(good, `id = "`+june+`"`, `id = "anquan-june"`, 1)
	w = f.do("POST", "/schedule?campaign="+june, c, url.Values{"csrf": {csrf}, "text": {renamed}})
	if back := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(back, "/schedule?campaign=anquan-june&msg=") {
		t.Errorf("June with a new id: %d, back to %q", w.Code, back)
	}
}

// between is the part of a page from the first from to the next to after it;
// "" when either is missing.
func between(page, from, to string) string {
	i := strings.Index(page, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], to)
	if j < 0 {
		return ""
	}
	return page[i : i+j]
}

// TestMissingPanel: the overview opens with who still owes each open
// deadline, soonest first, in words ready for the group.
func TestMissingPanel(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture)
		now   time.Time // zero: the fixture's, 6月4日 14:00, two hours after weekly's first deadline
		path  string
		has   []string // in the panel, in order
		lacks []string // in the panel
	}{
		{"a passed and a coming deadline", nil, time.Time{}, "/", []string{
			`<a href="/task/weekly">本周典型做法、特色项目</a> 第1期<small>已于 6月4日（周四）12:00 截止，补报算迟报</small>`,
			`<span class="missing">未报 5</span> <a href="/cell/weekly/1/` + url.PathEscape("西湖社区") + `">西湖社区</a>、`,
			"<textarea readonly rows=\"2\">「本周典型做法、特色项目」第1期（截止6月4日（周四）12:00）还没有报齐：\n未报：西湖社区、南山村、北岭村、安监站、城建办</textarea>",
			`<a href="/task/plan">活动方案</a> <small>6月9日（周二）18:00 截止</small>`,
			"未报：东风社区、西湖社区、南山村、北岭村、安监站、城建办</textarea>"},
			[]string{"6·16安全宣传咨询日活动", "重要活动", "活动总结", "12:00）还没有报齐：\n未报：东风社区"}},
		{"partial with what it lacks, exempt left out", func(f *fixture) {
			f.db.AddSubmission(&bot.Submission{MsgID: "3", Unit: "西湖社区", Member: "西湖社区-李四", Task: "weekly", Period: 1,
				At: f.now.Add(-time.Hour), Kind: schedules.Text, Text: "本周典型做法：入户宣传", Late: true}, nil)
			f.db.SetMark("weekly", 1, "南山村", bot.Mark{Status: bot.Exempt, By: "王科长", At: f.now})
		}, time.Time{}, "/", []string{
			`<span class="missing">未报 3</span>`,
			`<span class="partial">部分 1</span> <a href="/cell/weekly/1/` + url.PathEscape("西湖社区") + `">西湖社区</a> 还差至少1张图片</p>`,
			"未报：北岭村、安监站、城建办\n部分：西湖社区（还差至少1张图片）</textarea>"},
			[]string{`<a href="/cell/weekly/1/` + url.PathEscape("南山村")}},
		{"all reported", func(f *fixture) {
			for _, u := range f.srv.o.Config.Units {
				f.db.SetMark("plan", 1, u.Name, bot.Mark{Status: bot.Reported, By: "王科长", At: f.now})
			}
		}, time.Time{}, "/", []string{`<a href="/task/plan">活动方案</a>`, `<p class="done">各单位都已报齐。</p>`}, nil},
		{"a deadline a day past or more than a week away is not open", nil, time.Date(2026, 6, 10, 20, 0, 0, 0, time.FixedZone("CST", 8*3600)), "/",
			[]string{"本周典型做法、特色项目</a> 第2期", "6·16安全宣传咨询日活动"}, []string{"第1期", "活动方案"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if !tt.now.IsZero() {
				f.now = tt.now
			}
			if tt.setup != nil {
				tt.setup(f)
			}
			c, _ := f.signIn()
			page := f.do("GET", tt.path, c, nil).Body.String()
			panel := between(page, `<section class="owing"`, "</section>")
			if panel == "" || strings.Index(page, `<section class="owing"`) > strings.Index(page, `<table class="matrix">`) {
				t.Fatalf("no panel before the matrices:\n%s", page)
			}
			at := 0
			for _, s := range tt.has {
				j := strings.Index(panel[at:], s)
				if j < 0 {
					t.Fatalf("the panel lacks, or has out of order, %s:\n%s", s, panel)
				}
				at += j + len(s)
			}
			for _, s := range tt.lacks {
				if strings.Contains(panel, s) {
					t.Errorf("the panel has %s:\n%s", s, panel)
				}
			}
		})
	}
}

// TestMissingPanelCampaigns: the panel is the campaign's shown, its links
// keep the campaign, and a task page or a past campaign has none to chase.
func TestMissingPanelCampaigns(t *testing.T) {
	f := newCampaigns(t)
	c, _ := f.signIn()
	page := f.do("GET", "/", c, nil).Body.String()
	panel := between(page, `<section class="owing"`, "</section>")
	if !strings.Contains(panel, `<a href="/cell/weekly/1/`+url.PathEscape("东风社区")+`?campaign=`+november+`">东风社区</a>`) ||
		!strings.Contains(panel, "部分：北岭村（还差至少1张图片）") {
		t.Errorf("November's panel:\n%s", panel)
	}
	past := between(f.do("GET", "/?campaign="+june, c, nil).Body.String(), `<section class="owing"`, "</section>")
	if !strings.Contains(past, "一周内没有要截止的任务") {
		t.Errorf("June's panel in November:\n%s", past)
	}
	if strings.Contains(f.do("GET", "/task/weekly", c, nil).Body.String(), `class="owing"`) {
		t.Error("a task page has the panel")
	}
}

// TestHandMarks: a cell a coordinator marked shows it, with who and when, in
// the matrix and on the cell's page; one whose mark was taken back does not.
func TestHandMarks(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 6, 4, 13, 5, 0, 0, f.now.Location())
	f.db.SetMark("weekly", 1, "北岭村", bot.Mark{Status: bot.Exempt, By: "王科长", At: at})
	f.db.SetMark("plan", 1, "南山村", bot.Mark{Status: bot.Reported, By: "李主任", At: at})
	f.db.SetMark("weekly", 1, "安监站", bot.Mark{Status: bot.Missing, By: "王科长", At: at})
	c, _ := f.signIn()
	cell := func(task, unit string) string { return "/cell/" + task + "/1/" + url.PathEscape(unit) }
	tests := []struct {
		path       string
		has, lacks []string
	}{
		{"/", []string{
			`<td class="exempt now manual" title="王科长 6月4日 13:05 人工标记为免报"><a href="` + cell("weekly", "北岭村") + `">免报<span class="hand">人工</span></a></td>`,
			`<td class="reported now manual" title="李主任 6月4日 13:05 人工标记为已报"><a href="` + cell("plan", "南山村") + `">已报<span class="hand">人工</span></a></td>`,
			`<td class="missing now"><a href="` + cell("weekly", "安监站") + `">未报</a></td>`,
			`<td class="reported now"><a href="` + cell("weekly", "东风社区") + `">已报<small>`,
			// A task without deadline has no current period to keep in view.
			`<td class="none"><a href="` + cell("activity", "东风社区") + `">—</a></td>`}, nil},
		{cell("weekly", "北岭村"), []string{`<b class="badge exempt manual">免报<span class="hand">人工</span></b>`, "（王科长 6月4日 13:05 人工标记为免报，不是单位报来的）"}, nil},
		{cell("weekly", "安监站"), []string{"（王科长 6月4日 13:05 撤销了人工标记，按实际报送统计）"}, []string{`class="hand"`}},
		{cell("weekly", "东风社区"), nil, []string{`class="hand"`, "人工标记", "撤销了"}},
	}
	for _, tt := range tests {
		page := f.do("GET", tt.path, c, nil).Body.String()
		for _, s := range tt.has {
			if !strings.Contains(page, s) {
				t.Errorf("GET %s lacks %s", tt.path, s)
			}
		}
		for _, s := range tt.lacks {
			if strings.Contains(between(page, "<h1>", "<ol"), s) {
				t.Errorf("GET %s has %s", tt.path, s)
			}
		}
	}
}

// TestMarkConfirmation: the cell's mark buttons lead to a page that asks
// first, writing nothing; only its form, with the CSRF token, marks.
func TestMarkConfirmation(t *testing.T) {
	f := newFixture(t)
	c, csrf := f.signIn()
	f.db.SetMark("weekly", 1, "南山村", bot.Mark{Status: bot.Exempt, By: "李主任", At: f.now.Add(-time.Hour)})
	beiling, nanshan := "/cell/weekly/1/"+url.PathEscape("北岭村"), "/cell/weekly/1/"+url.PathEscape("南山村")
	tests := []struct {
		name       string
		path       string
		code       int
		has, lacks []string
	}{
		{"the cell links to the question, without a form that writes", beiling, 200,
			[]string{`href="` + beiling + `?mark=reported">标记已报</a>`, `href="` + beiling + `?mark=exempt">标记免报</a>`},
			[]string{`action="/mark"`, "撤销标记"}},
		{"a marked cell can take it back", nanshan, 200, []string{`href="` + nanshan + `?mark=missing">撤销标记</a>`}, nil},
		{"exempt", beiling + "?mark=exempt", 200, []string{
			"<h1>确认把 北岭村 「本周典型做法、特色项目」第1期 标记为 免报？</h1>", `<b class="badge missing">未报</b>`, "（还没有报送）",
			`<form method="post" action="/mark" class="mark">`, `name="csrf" value="` + csrf + `"`, `name="unit" value="北岭村"`,
			`<button class="primary" name="status" value="exempt">确认标记为免报</button>`, `<a class="button" href="` + beiling + `">取消</a>`}, nil},
		{"reported", beiling + "?mark=reported", 200, []string{"标记为 已报？", `value="reported">确认标记为已报</button>`}, nil},
		{"taking a mark back", nanshan + "?mark=missing", 200,
			[]string{"<h1>确认撤销 南山村 「本周典型做法、特色项目」第1期 的人工标记？</h1>", "（李主任 6月4日 13:00 人工标记）", `value="missing">确认撤销</button>`}, nil},
		{"a task with one period", "/cell/plan/1/" + url.PathEscape("北岭村") + "?mark=exempt", 200, []string{"<h1>确认把 北岭村 「活动方案」 标记为 免报？</h1>"}, nil},
		{"a status no one can mark", beiling + "?mark=late", 400, nil, nil},
		{"an empty status", beiling + "?mark=", 400, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", tt.path, c, nil)
			if w.Code != tt.code {
				t.Fatalf("GET %s: %d, want %d", tt.path, w.Code, tt.code)
			}
			body := w.Body.String()
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %s", tt.path, s)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(body, s) {
					t.Errorf("GET %s has %s", tt.path, s)
				}
			}
		})
	}
	if marks, _ := f.db.Marks("weekly", 1); len(marks) != 1 {
		t.Fatalf("asking marked: %v", marks)
	}
	// Confirming sends what the page's form holds.
	w := f.do("POST", "/mark", c, url.Values{"csrf": {csrf}, "task": {"weekly"}, "period": {"1"}, "unit": {"北岭村"}, "status": {"exempt"}})
	if back := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(back, beiling+"?msg=") {
		t.Fatalf("confirm: %d, back to %q", w.Code, back)
	}
	if marks, _ := f.db.Marks("weekly", 1); marks["北岭村"].Status != bot.Exempt || marks["北岭村"].By != "王科长" {
		t.Errorf("marks after confirming: %v", marks)
	}
}

// TestExportsPage: every period has a label (a task without deadline says
// so, not "：" alone), and a task with a template offers the 合并统计表 of
// its units' tables, which downloads.
func TestExportsPage(t *testing.T) {
	dir := t.TempDir()
	table := excelize.NewFile()
	table.SetSheetName("Sheet1", "统计表")
	table.SetSheetRow("统计表", "A1", &[]any{"项目", "数量"})
	table.SetSheetRow("统计表", "A2", &[]any{"宣传活动（场）", 3})
	var b bytes.Buffer
	if err := table.Write(&b); err != nil {
		t.Fatal(err)
	}
	tpl := b.Bytes()
	os.WriteFile(filepath.Join(dir, "活动情况统计表.xlsx"), tpl, 0o644)
	text := strings.Replace(exampleText(t), `# template = "活动情况统计表.xlsx"`, `template = "活动情况统计表.xlsx"`, 1)
	s, err := schedules.Parse(filepath.Join(dir, "schedule.toml"), []byte(text))
	if err != nil || s.TaskByID("summary").Template == "" {
		t.Fatalf("a schedule with a template: %v", err)
	}
	f := serve(t, time.Date(2026, 6, 29, 14, 0, 0, 0, s.Location), s)
	sum := sha256.Sum256(tpl)
	f.db.AddSubmission(&bot.Submission{MsgID: "1", Unit: "东风社区", Member: "东风社区-张三", Task: "summary", Period: 1,
		At: f.now.Add(-time.Hour), Kind: schedules.File, FileName: "东风社区统计表.xlsx", Blob: hex.EncodeToString(sum[:]), Size: int64(len(tpl))}, tpl)
	c, _ := f.signIn()

	page := f.do("GET", "/exports", c, nil).Body.String()
	for _, tt := range []struct {
		name string
		has  bool
		s    string
	}{
		{"a task without deadline is labelled", true, "<li>随时报送：\n<a href=\"/export/report?task=activity&amp;period=1\">"},
		{"a period is labelled with its deadline", true, "<li>第2期 截止 6月11日（周四）12:00：\n"},
		{"a one-period task with its deadline", true, "<li>截止 6月9日（周二）18:00：\n"},
		{"no empty label", false, "<li>："},
		{"the template's task has the merged table", true, `<a href="/export/merged?task=summary&amp;period=1">合并统计表（Excel）</a>`},
		{"only that task", false, "/export/merged?task=weekly"},
		{"no hint about templates once one is set", false, `class="hint"`},
	} {
		if strings.Contains(page, tt.s) != tt.has {
			t.Errorf("%s: the page has %q: %v, want %v", tt.name, tt.s, !tt.has, tt.has)
		}
	}

	w := f.do("GET", "/export/merged?task=summary&period=1", c, nil)
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Disposition"), url.PathEscape("合并统计表.xlsx")) {
		t.Fatalf("the merged table: %d %v", w.Code, w.Header())
	}
	x, err := excelize.OpenReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	first, _ := x.GetCellValue(x.GetSheetList()[0], "A1")
	if !slices.Contains(x.GetSheetList(), "合并情况") || !strings.HasPrefix(first, "合计 1 个单位（共 6 个）") {
		t.Errorf("the merged table: sheets %v, A1 %q", x.GetSheetList(), first)
	}
	for _, p := range []string{"/export/merged?task=weekly&period=1", "/export/merged?task=summary&period=2"} {
		if w := f.do("GET", p, c, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	// Without a template anywhere, the page says how to get one.
	g := newFixture(t)
	gc, _ := g.signIn()
	if page := g.do("GET", "/exports", gc, nil).Body.String(); strings.Contains(page, "/export/merged") || !strings.Contains(page, `<p class="hint">`) {
		t.Error("the exports without a template offer a merged table or no hint")
	}
}

// TestUprightPhotos: a phone photo stored lying on its side (landscape
// pixels, EXIF orientation 6) is shown upright in the thumbnail and the
// gallery's picture, made from the print copy kept in the store; the
// original is served unchanged.
func TestUprightPhotos(t *testing.T) {
	f := newFixture(t)
	c, _ := f.signIn()
	turned := phototest.WithExif(phototest.JPEG(phototest.Noisy(1600, 1200, 7)), 6)
	h := sha256.Sum256(turned)
	sum := hex.EncodeToString(h[:])
	at := time.Date(2026, 6, 3, 16, 40, 0, 0, f.now.Location())
	if _, err := f.db.AddSubmission(&bot.Submission{MsgID: "3", Unit: "东风社区", Member: "东风社区-张三", Task: "weekly", Period: 1, At: at,
		Kind: schedules.Image, Blob: sum, Size: int64(len(turned))}, turned); err != nil {
		t.Fatal(err)
	}
	w := f.do("GET", "/thumb/"+sum, c, nil)
	if w.Code != 200 {
		t.Fatalf("thumb: %d %v", w.Code, w.Header())
	}
	img, _, err := image.Decode(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() >= b.Dy() || b.Dy() != thumbSize {
		t.Errorf("thumbnail %v: want upright, %d high", b, thumbSize)
	}
	if kept, _ := f.db.PrintCopy(sum); kept == nil {
		t.Error("no print copy kept")
	}
	w = f.do("GET", "/print/"+sum, c, nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("print: %d %v", w.Code, w.Header())
	}
	cfg, _, err := image.DecodeConfig(w.Body)
	if err != nil || cfg.Width != 960 || cfg.Height != 1280 {
		t.Errorf("print copy %d×%d, %v; want 960×1280", cfg.Width, cfg.Height, err)
	}
	if w := f.do("GET", "/media/"+sum, c, nil); !bytes.Equal(w.Body.Bytes(), turned) {
		t.Error("the original is not served as it was sent")
	}
	if w := f.do("GET", "/gallery/weekly/1", c, nil); !strings.Contains(w.Body.String(), `href="/print/`+sum) {
		t.Error("the gallery does not open the print copy")
	}
	// Not a picture: the thumbnail is the placeholder, the print the file itself.
	junk := []byte("not a picture")
	hj := sha256.Sum256(junk)
	js := hex.EncodeToString(hj[:])
	if _, err := f.db.AddSubmission(&bot.Submission{MsgID: "4", Unit: "东风社区", Member: "东风社区-张三", Task: "weekly", Period: 1, At: at,
		Kind: schedules.Image, Blob: js, Size: int64(len(junk))}, junk); err != nil {
		t.Fatal(err)
	}
	if w := f.do("GET", "/thumb/"+js, c, nil); w.Code != http.StatusFound || w.Header().Get("Location") != "/static/nothumb.svg" {
		t.Errorf("thumb of no picture: %d %v", w.Code, w.Header())
	}
	if w := f.do("GET", "/print/"+js, c, nil); w.Code != http.StatusFound || w.Header().Get("Location") != "/media/"+js {
		t.Errorf("print of no picture: %d %v", w.Code, w.Header())
	}
	if w := f.do("GET", "/print/"+strings.Repeat("0", 63)+"g", c, nil); w.Code != http.StatusNotFound {
		t.Errorf("print of a bad hash: %d", w.Code)
	}
}

// TestStatusShowsTheDisk: the status page shows the database's size and the
// disk's free space, and says when the disk is nearly full.
func TestStatusShowsTheDisk(t *testing.T) {
	tests := []struct {
		name      string
		disk      Status
		want, not []string
	}{
		{"not known", Status{}, []string{"<th>数据库</th><td>12 KB</td>", "<th>磁盘</th><td>—</td>"}, []string{"快满了"}},
		{"plenty", Status{DiskKnown: true, DiskFree: 3 << 30, DiskUsedPercent: 41.6},
			[]string{"<th>磁盘</th><td>剩余 3.0 GB，已用 42%</td>"}, []string{"快满了"}},
		{"nearly full", Status{DiskKnown: true, DiskFree: 200 << 20, DiskUsedPercent: 93.2, DiskNearlyFull: true},
			[]string{"剩余 200.0 MB，已用 93%", "快满了，请清理或换更大的磁盘"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.disk = tt.disk
			c, _ := f.signIn()
			w := f.do("GET", "/status", c, nil)
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("status page lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(body, s) {
					t.Errorf("status page says %q", s)
				}
			}
		})
	}
}

// TestMessagesOnlyFromTheServer: the note a page shows after a mark comes
// from the server by id; a link with text in msg=, another session's id or
// an expired one shows no note at all.
func TestMessagesOnlyFromTheServer(t *testing.T) {
	f := newFixture(t)
	c, csrf := f.signIn()
	w := f.do("POST", "/mark", c, url.Values{"csrf": {csrf}, "task": {"weekly"}, "period": {"1"}, "unit": {"南山村"}, "status": {"exempt"}})
	back := w.Header().Get("Location")
	u, err := url.Parse(back)
	if err != nil || w.Code != http.StatusSeeOther {
		t.Fatalf("mark: %d, back to %q", w.Code, back)
	}
	id := u.Query().Get("msg")
	if strings.Contains(back, url.QueryEscape("已标记")) || id == "" {
		t.Fatalf("the redirect %q carries the text, or no id", back)
	}
	other, _ := f.signIn()
	for _, tt := range []struct {
		name   string
		target string
		cookie *http.Cookie
		want   string
	}{
		{"the server's own note", back, c, "已标记为免报"},
		{"a crafted text", u.Path + "?msg=" + url.QueryEscape("账号异常，请扫码 http://evil.example 重新登录"), c, ""},
		{"a crafted id", u.Path + "?msg=0123456789abcdef", c, ""},
		{"another session's note", back, other, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page := f.do("GET", tt.target, tt.cookie, nil).Body.String()
			got := ""
			if i := strings.Index(page, `<p class="message">`); i >= 0 {
				got = page[i+len(`<p class="message">`):]
				got = got[:strings.Index(got, "</p>")]
			}
			if got != tt.want {
				t.Errorf("note %q, want %q", got, tt.want)
			}
		})
	}
	f.now = f.now.Add(11 * time.Minute)
	if page := f.do("GET", back, c, nil).Body.String(); strings.Contains(page, `class="message"`) {
		t.Error("an expired note is still shown")
	}
}
