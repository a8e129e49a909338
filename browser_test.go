package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"reportbot/console"
)

var shotsDir = flag.String("shots", "", "write full-page screenshots of the dashboard's pages to this directory, to look at")

// TestDashboardInBrowser drives the real pages in headless Chromium over the
// June campaign: sign in with a link, the matrix, a cell and its thumbnails,
// the gallery with its texts, a schedule edit refused with its line shown
// and marked in the editor's gutter, and one saved from the editor. With -update it
// writes the screenshots the README shows to docs/.
func TestDashboardInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium here (.ci/run installs Debian's)")
	}
	// The June campaign, played into a data directory, with its schedule in a file the editor can save.
	dir := t.TempDir()
	schedPath := filepath.Join(dir, "schedule.toml")
	os.WriteFile(schedPath, exampleSchedule, 0o644)
	f, err := loadFiles("", schedPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var transcript strings.Builder
	p, err := startConsole(ctx, f, filepath.Join(dir, "data"), &transcript, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Play(ctx, strings.NewReader(readFile(t, "testdata/june.txt")), "june", console.DirFiles("testdata")); err != nil {
		t.Fatal(err)
	}
	p.Close()
	now := func() time.Time { return time.Date(2026, 6, 11, 15, 0, 0, 0, f.schedule.Location) }
	app, err := OpenApp(ctx, AppOptions{Config: f.config, Files: f.schedules, Reload: true,
		DataDir: filepath.Join(dir, "data"), Transport: &memChat{now: now}, Now: now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer ts.Close()
	srv, err := app.Dashboard(f.config, ts.URL, consoleStatus)
	if err != nil {
		t.Fatal(err)
	}
	h = srv
	link, err := srv.SignInLink("王科长")
	if err != nil {
		t.Fatal(err)
	}

	alloc, cancel := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	browser, cancel = context.WithTimeout(browser, 30*time.Second)
	defer cancel()

	shots := t.TempDir()
	if *update {
		shots = "docs"
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(browser, chromedp.Screenshot(`main`, chromedp.NodeVisible))
		if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	full := func(name string) {
		t.Helper()
		if *shotsDir == "" {
			return
		}
		png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(*shotsDir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	allLoaded := func(sel string) {
		t.Helper()
		if _, err := chromedp.Run(browser, chromedp.Poll[bool](`Array.from(document.querySelectorAll("`+sel+`")).every(i => i.complete && i.naturalWidth > 0)`)); err != nil {
			t.Fatalf("images %s: %v", sel, err)
		}
	}

	do("reach the server", chromedp.Navigate(ts.URL+"/healthz"))
	if body, err := chromedp.Run(browser, chromedp.Evaluate[string](`document.body.innerText`)); err != nil || !strings.Contains(body, "ok") {
		t.Fatalf("healthz in the browser: %q %v", body, err)
	}
	do("sign in with the link", chromedp.Navigate(link), chromedp.WaitVisible(`table.matrix`))
	title, err := chromedp.Run(browser, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	shot("dashboard-matrix.png")
	weekly1 := "/cell/weekly/1/" + url.PathEscape("东风社区")
	do("open a cell", chromedp.Click(`a[href="`+weekly1+`"]`, chromedp.NodeVisible), chromedp.WaitVisible(`ol.items img`))
	allLoaded("ol.items img")
	do("open the gallery", chromedp.Navigate(ts.URL+"/gallery/weekly/1"), chromedp.WaitVisible(`.gallery img`))
	allLoaded(".gallery img")
	shot("dashboard-gallery.png")
	full("gallery.png")
	// Cards of equal size whatever the photo's shape and the text's length.
	sizes, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".gallery figure")).map(f => f.offsetWidth + "x" + f.offsetHeight)`))
	if err != nil || len(sizes) < 2 {
		t.Fatalf("gallery cards %v %v", sizes, err)
	}
	for _, s := range sizes {
		if s != sizes[0] {
			t.Errorf("gallery cards of different sizes: %v", sizes)
			break
		}
	}
	if text, err := chromedp.Run(browser, chromedp.Text(`.gallery figcaption .text`)); err != nil || text == "" {
		t.Errorf("the first card has no text: %q %v", text, err)
	}
	if _, err := chromedp.Run(browser, chromedp.Text(`a[href="/export/photos?task=weekly&period=1"]`)); err != nil {
		t.Errorf("no link to the photos ZIP: %v", err)
	}

	bad := strings.Replace(string(exampleSchedule), `cron = "0 12 * * THU"`, `cron = "0 12 * * THUR"`, 1)
	badLine := strings.Count(bad[:strings.Index(bad, "THUR")], "\n") + 1
	do("save a wrong schedule", chromedp.Navigate(ts.URL+"/schedule"), chromedp.WaitVisible(`textarea`),
		chromedp.SetValue(`textarea`, bad), chromedp.Click(`form[action="/schedule"] button`), chromedp.WaitVisible(`ol.errors`))
	errText, err := chromedp.Run(browser, chromedp.Text(`ol.errors`))
	if err != nil || !strings.Contains(errText, fmt.Sprintf("第%d行 cron = \"0 12 * * THUR\"", badLine)) || !strings.Contains(errText, "第5段「周」") {
		t.Errorf("the error does not show line %d: %q %v", badLine, errText, err)
	}
	do("the wrong line marked in the gutter", chromedp.WaitVisible(fmt.Sprintf(`#L%d.bad`, badLine)))
	full("schedule-error.png")
	// The gutter's numbers sit on the editor's lines: the marked number at its
	// line's height, and the text's lines as tall as the gutter's.
	align, err := chromedp.Run(browser, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
		const ta = document.querySelector(".editor textarea"), st = getComputedStyle(ta);
		const lh = parseFloat(st.lineHeight), pad = parseFloat(st.paddingTop);
		const at = document.querySelector("#L%d").getBoundingClientRect().top - ta.getBoundingClientRect().top;
		const lines = ta.value.split("\n").length;
		ta.rows = 1;
		const tall = (ta.scrollHeight - 2 * pad) / lines;
		return [at, pad + %d * lh, tall, lh];
	})()`, badLine, badLine-1)))
	if err != nil || len(align) != 4 {
		t.Errorf("measure the editor: %v %v", align, err)
	} else if math.Abs(align[0]-align[1]) > 1 || math.Abs(align[2]-align[3]) > 0.5 {
		t.Errorf("gutter and text out of line (number at %v, line at %v; text lines %v px, gutter lines %v px)", align[0], align[1], align[2], align[3])
	}
	if app.campaigns.Load().All()[0].TaskByID("weekly").Periods[1].Due.Weekday() != time.Thursday || strings.Contains(readFile(t, schedPath), "THUR") {
		t.Error("the wrong schedule was put in force or saved")
	}
	edited := strings.Replace(string(exampleSchedule), `cron = "0 12 * * THU"`, `cron = "0 12 * * FRI"`, 1)
	do("save a schedule edit", chromedp.Navigate(ts.URL+"/schedule"), chromedp.WaitVisible(`textarea`),
		chromedp.SetValue(`textarea`, edited), chromedp.Click(`form[action="/schedule"] button`), chromedp.WaitVisible(`p.message`))
	if !strings.Contains(title, "2026年安全生产月") {
		t.Errorf("title %q", title)
	}
	if got := app.campaigns.Load().All()[0].TaskByID("weekly").Periods[1].Due.Weekday(); got != time.Friday {
		t.Errorf("after the edit the weekly deadline is on %v", got)
	}
	if saved := readFile(t, schedPath); !strings.Contains(saved, `cron = "0 12 * * FRI"`) {
		t.Error("the edit was not saved to the file")
	}
}
