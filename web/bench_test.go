package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/schedules"
	"reportbot/store"
)

// BenchmarkMatrix renders the matrix of 40 units × 5 weekly periods, each unit
// with a text and two photos a period, server side.
//
//	go test -run '^$' -bench Matrix -benchtime 200x ./web
func BenchmarkMatrix(b *testing.B) {
	var cfgText strings.Builder
	cfgText.WriteString("[bot]\nadmins = [\"王科长\"]\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&cfgText, "[[unit]]\nname = \"第%d社区\"\n", i+1)
	}
	cfg, err := bot.ParseConfig("bench.toml", []byte(cfgText.String()))
	if err != nil {
		b.Fatal(err)
	}
	s, err := schedules.Parse("bench.toml", []byte(`start = "2026-06-01"
end = "2026-07-10"
[[task]]
id = "weekly"
name = "本周典型做法"
requires = ["text", "image"]
cron = "0 12 * * THU"
from = "2026-06-01"
until = "2026-07-02"
`))
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	n := 0
	for _, p := range s.TaskByID("weekly").Periods {
		for _, u := range cfg.Units {
			for k, kind := range []schedules.Material{schedules.Text, schedules.Image, schedules.Image} {
				n++
				sub := &bot.Submission{MsgID: fmt.Sprint(n), Unit: u.Name, Member: u.Name + "-成员", Task: "weekly", Period: p.N,
					At: p.Due.Add(-time.Duration(k+1) * time.Hour), Kind: kind, Text: "本周典型做法：开展了消防演练。"}
				if kind == schedules.Image {
					sub.Blob = fmt.Sprintf("%064x", n)
				}
				if _, err := db.AddSubmission(sub, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if got := len(s.TaskByID("weekly").Periods); got != 5 {
		b.Fatalf("%d periods", got)
	}
	now := time.Date(2026, 6, 20, 10, 0, 0, 0, s.Location)
	set := schedules.Single(s)
	srv, err := New(Options{Config: cfg, Campaigns: func() *schedules.Set { return set }, Source: db,
		Now: func() time.Time { return now }, Logger: zerolog.Nop(), URL: "http://x"})
	if err != nil {
		b.Fatal(err)
	}
	link, _ := srv.SignInLink("王科长")
	u, _ := url.Parse(link)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", u.RequestURI(), nil))
	cookie := w.Result().Cookies()[0]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest("GET", "/task/weekly", nil)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
