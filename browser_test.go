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
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
)

var shotsDir = flag.String("shots", "", "write full-page screenshots of the dashboard's pages to this directory, to look at")

// TestDashboardInBrowser drives the real pages in headless Chromium over the
// June campaign: sign in with a link, the matrix led by who is still missing,
// a mark asked for and confirmed, then shown as a hand mark, the current
// period in view on a 390 px phone, a cell and its thumbnails, the gallery
// with its texts, a schedule edit refused with its line shown and marked in
// the editor's gutter, and one saved from the editor. With -update it
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
	script := readFile(t, "testdata/june.txt")
	if *update {
		script = withPhoneSizePhotos(t, script)
	}
	if err := p.Play(ctx, strings.NewReader(script), "june", console.DirFiles("testdata")); err != nil {
		t.Fatal(err)
	}
	p.Close()
	// The clock moves once, to the last weekly deadline, for the phone check.
	var clock atomic.Pointer[time.Time]
	june11 := time.Date(2026, 6, 11, 15, 0, 0, 0, f.schedule.Location)
	clock.Store(&june11)
	now := func() time.Time { return *clock.Load() }
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
	// A bound on a browser that hangs, not a speed target: a loaded 2-core
	// machine under -race took over 30 s for the whole walk.
	browser, cancel = context.WithTimeout(browser, 3*time.Minute)
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
	// page saves the whole page into $DASHBOARD_SHOTS, when set, to look at
	// the layout at each width: these are not the README's pictures.
	page := func(name string) {
		t.Helper()
		dir := os.Getenv("DASHBOARD_SHOTS")
		if dir == "" {
			return
		}
		png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
		if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page("overview-1280.png")
	// Who still owes comes first: the second weekly period, due at noon, and
	// the 咨询日 next week; its text is in a box to copy into the group.
	panel, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`(() => {
		const s = document.querySelector("main section");
		if (!s || !s.matches(".owing")) return [];
		return Array.from(s.querySelectorAll("textarea")).map(t => t.value);
	})()`))
	if err != nil || len(panel) != 2 || !strings.HasPrefix(panel[0], "「本周典型做法、特色项目」第2期（截止6月11日（周四）12:00）还没有报齐：\n未报：西湖社区、北岭村、安监站、城建办") ||
		!strings.HasPrefix(panel[1], "「6·16安全宣传咨询日活动」") {
		t.Errorf("the panel of who is missing: %q %v", panel, err)
	}
	// A mark is asked for first, and only the confirmation writes it.
	weekly := app.campaigns.Load().All()[0].TaskByID("weekly").Key
	beiling2 := "/cell/weekly/2/" + url.PathEscape("北岭村")
	do("ask to mark", chromedp.Navigate(ts.URL+beiling2), chromedp.Click(`a[href="`+beiling2+`?mark=exempt"]`, chromedp.NodeVisible),
		chromedp.WaitVisible(`section.confirm`))
	question, err := chromedp.Run(browser, chromedp.Text(`section.confirm h1`))
	if err != nil || question != "确认把 北岭村 「本周典型做法、特色项目」第2期 标记为 免报？" {
		t.Errorf("the question: %q %v", question, err)
	}
	page("confirm-1280.png")
	if marks, _ := app.Store.Marks(weekly, 2); len(marks) != 0 {
		t.Errorf("marked before confirming: %v", marks)
	}
	do("confirm the mark", chromedp.Click(`section.confirm button.primary`), chromedp.WaitVisible(`p.message`))
	if marks, _ := app.Store.Marks(weekly, 2); marks["北岭村"].Status != bot.Exempt || marks["北岭村"].By != "王科长" {
		t.Errorf("marks after confirming: %v", marks)
	}
	do("see the mark in the matrix", chromedp.Navigate(ts.URL+"/task/weekly"), chromedp.WaitVisible(`table.matrix`))
	hand, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`(() => {
		const td = document.querySelector('td a[href="`+beiling2+`"]').parentElement;
		return [td.className, td.title, td.innerText];
	})()`))
	if err != nil || len(hand) != 3 || hand[0] != "exempt now manual" || hand[1] != "王科长 6月11日 15:00 人工标记为免报" || !strings.Contains(hand[2], "人工") {
		t.Errorf("the marked cell: %q %v", hand, err)
	}
	page("task-1280.png")
	do("open the exports", chromedp.Navigate(ts.URL+"/exports"), chromedp.WaitVisible(`main h1`))
	page("exports-1280.png")

	// On a phone the current period's column is in view without scrolling
	// right, even when it is the last of four: on 6月25日, after its deadline.
	june25 := time.Date(2026, 6, 25, 15, 0, 0, 0, f.schedule.Location)
	clock.Store(&june25)
	if link, err = srv.SignInLink("王科长"); err != nil { // the session of 6月11日 is long over
		t.Fatal(err)
	}
	do("a phone signs in", chromedp.EmulateViewport(390, 844), chromedp.Navigate(link), chromedp.WaitVisible(`table.matrix`))
	type box struct{ Left, Right, Width, PageWidth, Scrolled float64 }
	for _, path := range []string{"/task/weekly", "/"} {
		do("open "+path+" on a phone", chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(`table.matrix`))
		b, err := chromedp.Run(browser, chromedp.Evaluate[box](`(() => {
			const th = Array.from(document.querySelectorAll("table.matrix th.current")).find(th => th.textContent.includes("第4期"));
			const r = th.getBoundingClientRect();
			return {Left: r.left, Right: r.right, Width: document.documentElement.clientWidth,
				PageWidth: document.documentElement.scrollWidth, Scrolled: th.closest(".scroll").scrollLeft};
		})()`))
		if err != nil || b.Width != 390 || b.PageWidth > b.Width || b.Scrolled != 0 || b.Left < 0 || b.Right > b.Width {
			t.Errorf("%s at 390 px: the current period at %v–%v of %v, the page %v wide, scrolled %v (%v)", path, b.Left, b.Right, b.Width, b.PageWidth, b.Scrolled, err)
		}
		page(map[string]string{"/": "overview-390.png", "/task/weekly": "task-390.png"}[path])
	}
	clock.Store(&june11)
	do("back to a desktop", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(`table.matrix`))
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

// withPhoneSizePhotos has the June script send phone-size photos (made by
// docs/photos, as docs/render.sh's documents show) instead of the demo's
// small PNGs: the README's pictures of the dashboard show what it does with
// real ones.
func withPhoneSizePhotos(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("go", "run", "./docs/photos", dir).CombinedOutput(); err != nil {
		t.Fatalf("make the photos: %v: %s", err, out)
	}
	re := regexp.MustCompile(`(?m)^([^:]*: /image )\.\./console/demo/(.*)\.png$`)
	return re.ReplaceAllString(script, "${1}"+filepath.ToSlash(dir)+"/${2}.jpg")
}
