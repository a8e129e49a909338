package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// testdata/schema2-june.db is the June script (testdata/june.txt) as the
// schema-2 store kept it (made with `reportbot demo --script testdata/june.txt
// --data DIR` before campaigns came). Later schemas must open it, keep its
// data, and export the same workbook as a fresh run of the same month.
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
	fresh := filepath.Join(dir, "fresh")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"demo", "--script", "testdata/june.txt", "--data", fresh}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr.String())
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
	got := export("--db", old)
	want := export("--db", filepath.Join(fresh, "reportbot.db"))
	if got != want {
		t.Errorf("the schema-2 file exports:\n%s\n--- a fresh June exports:\n%s", got, want)
	}
	if !strings.Contains(got, "东风社区") || !strings.Contains(got, "已报") {
		t.Errorf("the export holds no June data:\n%s", got)
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
