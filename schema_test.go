package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"reportbot/store"
)

// testdata/schema2-june.db is the June script (testdata/june.txt) as the
// schema-2 store kept it (made with `reportbot demo --script testdata/june.txt
// --data DIR` before campaigns came). Later schemas must open it, keep its
// data, and export the workbook it exported then
// (testdata/schema2-june.workbook.golden, written by the schema-2 code's
// export; -update rewrites it).
func TestSchema2DatabaseStillReads(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	data, err := os.ReadFile(filepath.Join("testdata", "schema2-june.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, data, 0o600); err != nil {
		t.Fatal(err)
	}
	export := func(args ...string) string {
		t.Helper()
		out := filepath.Join(dir, "out", filepath.Base(args[len(args)-1]))
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"export", "--out", out}, args...), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("export %v: exit %d: %s", args, code, stderr.String())
		}
		return workbookText(t, filepath.Join(out, "报送统计表.xlsx"))
	}
	// The workbook says when it was exported, in the campaign's zone: 01:00 UTC is 09:00 in Shanghai.
	defer func(now func() time.Time) { timeNow = now }(timeNow)
	timeNow = func() time.Time { return time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC) }
	golden := filepath.Join("testdata", "schema2-june.workbook.golden")
	got := export("--db", old)
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want := readFile(t, golden)
	if got != want {
		t.Errorf("the schema-2 file exports:\n%s\n--- it exported:\n%s", got, want)
	}
	if !strings.Contains(got, "东风社区") || !strings.Contains(got, "已报") {
		t.Errorf("the export holds no June data:\n%s", got)
	}

	// The same file under June's schedule with an id (schedules.example/):
	// read before any reportbot with campaigns opened it, then opened by
	// the bot, which files its data under the campaign; the workbook is the
	// same each time.
	folder := filepath.Join(dir, "schedules")
	os.MkdirAll(folder, 0o755)
	june, err := os.ReadFile(filepath.Join("schedules.example", "2026-06-anquan.toml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(folder, "june.toml"), june, 0o644)
	if got := export("--schedule", folder, "--db", old); got != want {
		t.Errorf("the schema-2 file read for a campaign with an id exports:\n%s", got)
	}
	r := &campaignRig{t: t, folder: folder, data: filepath.Join(dir, "data")}
	os.MkdirAll(r.data, 0o700)
	os.WriteFile(filepath.Join(r.data, "reportbot.db"), data, 0o600)
	r.open("2026-07-06 09:00")
	if bare, err := r.app.Store.BareTasks(); err != nil || len(bare) != 0 {
		t.Errorf("left under bare task ids: %v %v", bare, err)
	}
	juneC := r.app.campaigns.Load().All()[0]
	// The sent-log's old keys now carry the campaign and the deadline: nothing of June goes out again.
	for _, e := range juneC.Events(juneC.Start.AddDate(0, 0, -8), r.at("2026-07-01 10:00")) {
		if sent, _ := r.app.Store.IsSent(e.Key); !sent {
			t.Errorf("%s: not in the sent-log after the move", e.Describe())
		}
	}
	if n := count(r.said(), "【"); n != 0 {
		t.Errorf("June's messages sent again after the move: %d", n)
	}
	weekly := juneC.TaskByID("weekly")
	if subs, _ := r.app.Store.PeriodSubmissions(weekly.Key, 1); len(subs) == 0 || subs[0].Task != weekly.Key {
		t.Errorf("June's first weekly period after the move: %+v", subs)
	}
	r.say(admin, "进度 典型做法 第1期")
	if got := r.said(); count(got, "已报", "东风社区") != 1 {
		t.Errorf("进度 after the move:\n%s", strings.Join(got, "\n"))
	}
	r.close()
	if got := export("--schedule", folder, "--db", filepath.Join(r.data, "reportbot.db")); got != want {
		t.Errorf("after the move the file exports:\n%s", got)
	}
	// Its schema is 3 now: a reportbot of schema 2 refuses it, as it refuses any newer file.
	db, err := store.OpenFile(filepath.Join(r.data, "reportbot.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Schema(); err != nil || v != 3 {
		t.Errorf("schema %d %v, want 3", v, err)
	}
}

// workbookText is every sheet's cells, a sheet after another, a row a line.
func workbookText(t *testing.T, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("## " + sheet + "\n")
		for _, r := range rows {
			b.WriteString(strings.Join(r, " | ") + "\n")
		}
	}
	return b.String()
}
