package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/photo/phototest"
	"reportbot/schedules"
)

// unitWordBody is a Word file as Word in Chinese writes one: heading style
// "1", a grid-styled table, a picture, a bookmark, w14 ids and a list.
const unitWordBody = `<w:p w14:paraId="1A2B3C4D"><w:pPr><w:pStyle w:val="1"/></w:pPr><w:bookmarkStart w:id="0" w:name="_GoBack"/><w:r><w:t>南山村防溺水工作</w:t></w:r><w:bookmarkEnd w:id="0"/></w:p>` +
	`<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="3"/></w:numPr></w:pPr><w:r><w:t>南山村本周组织巡查河道鱼塘。</w:t></w:r></w:p>` +
	`<w:p><w:r><w:drawing><wp:inline><wp:extent cx="1440000" cy="1080000"/><wp:docPr id="1" name="图片 1"/>` +
	`<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">` +
	`<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="0" name="河道.png"/><pic:cNvPicPr/></pic:nvPicPr>` +
	`<pic:blipFill><a:blip r:embed="rId5"/></pic:blipFill><pic:spPr/></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>` +
	`<w:tbl><w:tblPr><w:tblStyle w:val="a3"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="4000"/><w:gridCol w:w="4000"/></w:tblGrid>` +
	`<w:tr><w:tc><w:p><w:r><w:t>检查项目</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>数量</w:t></w:r></w:p></w:tc></w:tr>` +
	`<w:tr><w:tc><w:p><w:r><w:t>警示牌</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>8块</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
	`<w:p><w:r><w:t>设置警示牌8块。</w:t></w:r><w:r><w:commentReference w:id="1"/></w:r></w:p>` +
	`<w:sectPr><w:headerReference w:type="default" r:id="rId9"/><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>`

// wordFile packs body into a .docx with Word's namespaces and styles.
func wordFile(t *testing.T, body string, media map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	put := func(name, s string) {
		f, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(s))
	}
	put("word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
		`<w:document xmlns:w="`+nsW+`" xmlns:r="`+nsR+`" xmlns:wp="`+nsWP+`" xmlns:mc="`+nsMC+`" `+
		`xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" mc:Ignorable="w14"><w:body>`+body+`</w:body></w:document>`)
	put("word/styles.xml", `<w:styles xmlns:w="`+nsW+`"><w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/></w:style>`+
		`<w:style w:type="table" w:styleId="a3"><w:name w:val="Table Grid"/></w:style></w:styles>`)
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>`
	for name := range media {
		rels += `<Relationship Id="rId5" Type="` + relImage + `" Target="` + name + `"/>`
		put("word/"+name, string(media[name]))
	}
	put("word/_rels/document.xml.rels", rels+`</Relationships>`)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// report builds the 汇编 of a weekly period and checks what every 汇编 must
// be: a package whose document is well-formed XML declaring every prefix it
// uses, every picture referenced, decodable and at print size.
func report(t *testing.T, f *fixture, n int) (doc string, files map[string][]byte) {
	t.Helper()
	var out bytes.Buffer
	if err := f.e.Report(&out, f.e.Schedule.TaskByID("weekly"), n); err != nil {
		t.Fatal(err)
	}
	files = unzip(t, out.Bytes())
	doc = string(files["word/document.xml"])
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("document.xml: %v", err)
		}
	}
	root := doc[:strings.Index(doc, "<w:body>")]
	for _, m := range regexp.MustCompile(`<(\w+):`).FindAllStringSubmatch(doc, -1) {
		if !strings.Contains(root, "xmlns:"+m[1]+"=") && !strings.Contains(doc, "xmlns:"+m[1]+"=") {
			t.Errorf("prefix %s is not declared", m[1])
		}
	}
	rels := string(files["word/_rels/document.xml.rels"])
	ids := regexp.MustCompile(`Id="([^"]+)"`).FindAllStringSubmatch(rels, -1)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id[1]] {
			t.Errorf("relationship %s twice", id[1])
		}
		seen[id[1]] = true
	}
	for _, m := range regexp.MustCompile(`r:(?:embed|id)="([^"]+)"`).FindAllStringSubmatch(doc, -1) {
		if !seen[m[1]] {
			t.Errorf("%s has no relationship", m[1])
		}
	}
	docPr := map[string]bool{}
	for _, m := range regexp.MustCompile(`<wp:docPr id="(\d+)"`).FindAllStringSubmatch(doc, -1) {
		if docPr[m[1]] {
			t.Errorf("drawing id %s twice (Word repairs such files)", m[1])
		}
		docPr[m[1]] = true
	}
	for name, data := range files {
		if !strings.HasPrefix(name, "word/media/") {
			continue
		}
		if !strings.Contains(rels, strings.TrimPrefix(name, "word/")) {
			t.Errorf("%s is not referenced", name)
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s does not decode: %v", name, err)
			continue
		}
		if b := img.Bounds(); b.Dx() > 1280 || b.Dy() > 1280 {
			t.Errorf("%s is %d×%d, over print size", name, b.Dx(), b.Dy())
		}
	}
	return doc, files
}

// texts is the document's text, one line per paragraph.
func texts(doc string) string {
	var b strings.Builder
	dec := xml.NewDecoder(strings.NewReader(doc))
	inT := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inT = t.Name.Local == "t"
		case xml.EndElement:
			inT = false
			if t.Name.Local == "p" {
				b.WriteString("\n")
			}
		case xml.CharData:
			if inT {
				b.Write(t)
			}
		}
	}
	return b.String()
}

func TestReportForForwarding(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	doc, _ := report(t, f, 1)
	text := texts(doc)
	for _, c := range []struct {
		what string
		re   string
		want bool
	}{
		{"campaign", `(?m)^2026年安全生产月$`, true},
		{"title", `(?m)^本周典型做法、特色项目 第1期 汇编$`, true},
		{"office and export date", `(?m)^XX街道办事处　2026年7月1日$`, true},
		{"units in config order, numbered", `(?s)一、东风社区.*二、西湖社区.*三、南山村.*四、城建办`, true},
		{"text without its chat label", `(?m)^消防疏散演练，居民120人参加。$`, true},
		{"another label", `(?m)^走访独居老人23户。$`, true},
		{"missing units", `(?m)^未报送单位：北岭村$`, true},
		{"keyword label", `典型做法：`, false},
		{"status words", `已报|迟报|未报送。|未报）|免报|部分|（|）`, false},
		{"exempt unit's section", `安监站`, false},
		{"nicknames", `张三|李四|王五|陈静|王科长`, false},
		{"times", `\d{1,2}:\d{2}|\d+月\d+日 \d`, false},
		{"go errors", `zip:|error|EOF|nil`, false},
		{"own captions", `(?m)^东风社区 图1$`, true},
		{"the Word file's text", `(?s)南山村本周组织巡查河道鱼塘。.*设置警示牌8块。`, true},
	} {
		if got := regexp.MustCompile(c.re).MatchString(text); got != c.want {
			t.Errorf("%s: matches %q = %v, want %v\n%s", c.what, c.re, got, c.want, text)
		}
	}
}

// TestReportMergesWordFiles: a unit's Word file comes with its heading, its
// table as a table and its picture once, pointing into the 汇编.
func TestReportMergesWordFiles(t *testing.T) {
	f := newFixture(t, "")
	f.scenario()
	doc, files := report(t, f, 1)
	for _, c := range []struct {
		what, want string
	}{
		{"heading one level below the unit", `<w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>南山村防溺水工作</w:t>`},
		{"table kept", `<w:tbl><w:tblPr><w:tblStyle w:val="UnitTable"/>`},
		{"cells whole", `<w:t>检查项目</w:t>`},
		{"w14 declared", `xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"`},
		{"w14 ignorable", `mc:Ignorable="w14"`},
	} {
		if !strings.Contains(doc, c.want) {
			t.Errorf("%s: document lacks %q", c.what, c.want)
		}
	}
	for _, gone := range []string{"bookmarkStart", "numPr", "commentReference", "headerReference", "paraId", `w:val="a3"`, `r:embed="rId5"`} {
		if strings.Contains(doc, gone) {
			t.Errorf("document still has %s", gone)
		}
	}
	if n := strings.Count(doc, "<w:tbl>"); n != 4 { // the Word file's, and three units' photos
		t.Errorf("%d tables, want 4", n)
	}
	media := 0
	for name := range files {
		if strings.HasPrefix(name, "word/media/") {
			media++
		}
	}
	if media != 4 { // three photos and the one inside the Word file
		t.Errorf("%d pictures, want 4", media)
	}
}

func TestReportUnreadableWordFile(t *testing.T) {
	f := newFixture(t, "")
	f.add("北岭村", "北岭村-赵六", "weekly", 1, "2026-06-04 09:00", schedules.File, "", "坏.docx", []byte("PK\x03\x04 not really"), false)
	for name, body := range map[string]string{"unbalanced.docx": `<w:p><w:r><w:t>x</w:t></w:p>`, "foreign.docx": `<w:p><w:r><x:t xmlns:x="urn:x">y</x:t></w:r></w:p>`} {
		f.add("北岭村", "北岭村-赵六", "weekly", 1, "2026-06-04 09:01", schedules.File, "", name, wordFile(t, body, nil), false)
	}
	doc, _ := report(t, f, 1)
	text := texts(doc)
	if !strings.Contains(text, "（附件《坏.docx》无法读取，请查看材料包中的原文件）") ||
		!strings.Contains(text, "（附件《unbalanced.docx》无法读取，请查看材料包中的原文件）") {
		t.Errorf("no plain sentence for the unreadable files:\n%s", text)
	}
	if !strings.Contains(text, "y") || strings.Contains(text, "zip") {
		t.Errorf("text:\n%s", text)
	}
}

// TestReportPhotos: two photos to a row, each captioned, at print size and
// upright; a short phrase sent right before a photo becomes its caption.
func TestReportPhotos(t *testing.T) {
	f := newFixture(t, "")
	turned := phototest.WithExif(phototest.JPEG(phototest.Noisy(400, 300, 1)), 6)
	big := phototest.JPEG(phototest.Noisy(3000, 2000, 2))
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:30", schedules.Text, "本周典型做法：消防疏散演练，居民120人参加。", "", nil, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:31", schedules.Image, "", "a.jpg", turned, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:32", schedules.Image, "", "b.jpg", big, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:33", schedules.Text, "演练现场", "", nil, false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:34", schedules.Image, "", "c.png", pngBytes(t, 30, 20, color.White), false)
	f.add("东风社区", "东风社区-张三", "weekly", 1, "2026-06-03 16:35", schedules.Image, "", "d.png", []byte("not a picture"), false)
	doc, files := report(t, f, 1)
	rows := regexp.MustCompile(`(?s)<w:tr>.*?</w:tr>`).FindAllString(doc, -1)
	var perRow []int
	for _, r := range rows {
		perRow = append(perRow, strings.Count(r, "<w:drawing>"))
	}
	if fmt.Sprint(perRow) != "[2 1]" {
		t.Errorf("photos per row %v, want [2 1]", perRow)
	}
	if strings.Contains(doc, "<w:top w:val=\"single\"") {
		t.Error("the photo table has borders")
	}
	text := texts(doc)
	for _, want := range []string{"东风社区 图1\n", "东风社区 图2\n", "东风社区 图3　演练现场\n", "（有一张图片无法识别，请查看材料包中的原文件）"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "\n演练现场\n") {
		t.Error("the caption is also in the text")
	}
	sizes := map[string]image.Point{}
	for name, data := range files {
		if strings.HasPrefix(name, "word/media/") {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sizes[name] = image.Pt(cfg.Width, cfg.Height)
		}
	}
	for name, want := range map[string]image.Point{"word/media/image1.jpeg": {300, 400}, "word/media/image2.jpeg": {1280, 853}, "word/media/image3.png": {30, 20}} {
		if sizes[name] != want {
			t.Errorf("%s is %v, want %v (all: %v)", name, sizes[name], want, sizes)
		}
	}
}

func TestReportClosingLine(t *testing.T) {
	for _, c := range []struct {
		name    string
		units   []string // units that send a text and a photo
		exempt  []string
		closing string
	}{
		{"some missing", []string{"东风社区", "城建办"}, []string{"安监站"}, "未报送单位：西湖社区、南山村、北岭村"},
		{"all in", []string{"东风社区", "西湖社区", "南山村", "北岭村", "城建办"}, []string{"安监站"}, "各单位均已报送"},
		{"nobody", nil, nil, "本期没有单位报送材料。\n未报送单位：东风社区、西湖社区、南山村、北岭村、安监站、城建办"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "")
			for _, u := range c.units {
				f.add(u, u+"-成员", "weekly", 1, "2026-06-03 10:00", schedules.Text, "典型做法：开展安全检查一次，整改隐患两处。", "", nil, false)
				f.add(u, u+"-成员", "weekly", 1, "2026-06-03 10:01", schedules.Image, "", "p.png", pngBytes(t, 8, 6, color.Black), false)
			}
			for _, u := range c.exempt {
				if err := f.db.SetMark("weekly", 1, u, bot.Mark{Status: bot.Exempt, By: "王科长"}); err != nil {
					t.Fatal(err)
				}
			}
			doc, _ := report(t, f, 1)
			if text := texts(doc); !strings.HasSuffix(text, c.closing+"\n") {
				t.Errorf("ends\n%s\nwant %q", text[max(0, len(text)-200):], c.closing)
			}
		})
	}
}

// TestReportSize: a 40-unit period with three 12-megapixel phone photos
// each stays small enough to mail.
func TestReportSize(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("makes 120 print copies of 12-megapixel photos: run without -short and -race (.ci/run does)")
	}
	f := newFixture(t, "")
	cfg := *f.e.Config
	cfg.Units = nil
	for i := 1; i <= 40; i++ {
		cfg.Units = append(cfg.Units, bot.Unit{Name: fmt.Sprintf("第%d社区", i)})
	}
	f.e.Config = &cfg
	// A few distinct scenes, each stored as a different file per photo (a
	// comment segment), as every phone photo is.
	var scenes [][]byte
	for i := 0; i < 4; i++ {
		scenes = append(scenes, phototest.JPEG(phototest.Noisy(3000, 4000, uint64(i))))
	}
	t.Logf("a photo is %.1f MB", float64(len(scenes[0]))/(1<<20))
	for i, u := range cfg.Units {
		f.add(u.Name, u.Name+"-成员", "weekly", 1, "2026-06-03 10:00", schedules.Text, "典型做法：开展安全检查一次，整改隐患两处。", "", nil, false)
		for k := 0; k < 3; k++ {
			jpg := scenes[(i*3+k)%len(scenes)]
			com := fmt.Sprintf("\xff\xfe\x00\x08p%05d", i*3+k)
			data := append(append([]byte{}, jpg[:2]...), com...)
			f.add(u.Name, u.Name+"-成员", "weekly", 1, fmt.Sprintf("2026-06-03 10:0%d", k+1), schedules.Image, "", "p.jpg", append(data, jpg[2:]...), false)
		}
	}
	var out bytes.Buffer
	if err := f.e.Report(&out, f.e.Schedule.TaskByID("weekly"), 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("汇编 of 40 units, 120 photos: %.1f MB", float64(out.Len())/(1<<20))
	// To look at it: REPORTBOT_KEEP_REPORT=/tmp/big.docx, then LibreOffice.
	if keep := os.Getenv("REPORTBOT_KEEP_REPORT"); keep != "" {
		if err := os.WriteFile(keep, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out.Len() > 35<<20 {
		t.Errorf("汇编 is %.1f MB, over 35 MB", float64(out.Len())/(1<<20))
	}
	files := unzip(t, out.Bytes())
	if n := strings.Count(string(files["word/document.xml"]), "<w:drawing>"); n != 120 {
		t.Errorf("%d photos, want 120", n)
	}
}
