package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"reportbot/bot"
	"reportbot/photo"
	"reportbot/schedules"
)

// Report writes the 汇编 of a task period, the document a coordinator
// forwards upward as it is: a title block, then one section per unit that
// sent something, in the config's order, holding its texts (without the
// chat's keyword prefixes), the contents of its Word files, and its photos
// at print size two to a row, each with its own caption; a closing line names
// the units that sent nothing. Who sent what when, statuses and late marks
// are tracking, kept in the workbook and never written here.
func (e *Exporter) Report(w io.Writer, t *schedules.Task, n int) error {
	if _, ok := t.Period(n); !ok {
		return fmt.Errorf("「%s」没有第%d期", t.Name, n)
	}
	reports, err := e.reports(t, n)
	if err != nil {
		return err
	}
	now := e.now()
	d := newDocx(w)
	d.modified = now
	title := t.Name
	if l := t.Label(n); l != "" {
		title += " " + l
	}
	d.paragraph("Campaign", e.Schedule.Name)
	d.paragraph("Title", title+" 汇编")
	date := now.Format("2006年1月2日")
	if o := e.Config.Bot.Office; o != "" {
		date = o + "　" + date
	}
	d.paragraph("Subtitle", date)

	var jobs []string
	for _, r := range reports {
		for _, s := range r.Submissions {
			if s.Kind == schedules.Image {
				jobs = append(jobs, s.Blob)
			}
		}
	}
	prints := e.printCopies(jobs)
	defer prints.stop()

	var missing []string
	section := 0
	for _, r := range reports {
		if len(r.Submissions) == 0 {
			if r.Status == bot.Missing {
				missing = append(missing, r.Unit)
			}
			continue
		}
		section++
		d.paragraph("Heading1", chineseOrdinal(section)+"、"+r.Unit)
		if err := e.unitSection(d, t, r, prints); err != nil {
			return err
		}
	}
	if section == 0 {
		d.paragraph("Body", "本期没有单位报送材料。")
	}
	if len(missing) > 0 {
		d.paragraph("Closing", "未报送单位："+strings.Join(missing, "、"))
	} else if section > 0 {
		d.paragraph("Closing", "各单位均已报送")
	}
	return d.close()
}

// unitSection writes one unit's texts and Word files in the order they came,
// then its photos as a table.
func (e *Exporter) unitSection(d *docx, t *schedules.Task, r bot.UnitReport, prints *printQueue) error {
	subs := r.Submissions
	var cells []photoCell
	captionOf := map[int]string{} // photo's index -> the short text sent just before it
	for i, s := range subs {
		if s.Kind != schedules.Text || i+1 >= len(subs) {
			continue
		}
		if next := subs[i+1]; next.Kind == schedules.Image && next.Member == s.Member {
			// A labelled text ("典型做法：…") is the report itself, however short.
			if c := shortCaption(s.Text); c != "" && stripKeyword(s.Text, t) == strings.TrimSpace(s.Text) {
				captionOf[i+1] = c
			}
		}
	}
	for i, s := range subs {
		switch s.Kind {
		case schedules.Text:
			if captionOf[i+1] != "" {
				continue // it is the photo's caption
			}
			for _, para := range strings.Split(stripKeyword(s.Text, t), "\n") {
				if para = strings.TrimSpace(para); para != "" {
					d.paragraph("Body", para)
				}
			}
		case schedules.Image:
			c, err := prints.next()
			if err != nil {
				return err
			}
			if c.Data == nil {
				d.paragraph("Body", "（有一张图片无法识别，请查看材料包中的原文件）")
				continue
			}
			caption := fmt.Sprintf("%s 图%d", r.Unit, len(cells)+1)
			if text := captionOf[i]; text != "" {
				caption += "　" + text
			}
			// Into the file now, the table later: a unit that sent a
			// hundred photos must not have them all in memory at once.
			rid, err := d.addMedia(c.Data, c.Format)
			if err != nil {
				return err
			}
			cells = append(cells, photoCell{rid: rid, width: c.Width, height: c.Height, caption: caption})
		case schedules.File:
			ext := strings.ToLower(path.Ext(s.FileName))
			if ext != ".docx" {
				d.paragraph("Body", "（附件《"+s.FileName+"》见材料包）")
				continue
			}
			data, err := e.Source.Blob(s.Blob)
			if err != nil {
				return fmt.Errorf("read %s of %s: %w", s.FileName, r.Unit, err)
			}
			if err := d.include(data); err != nil {
				d.paragraph("Body", "（附件《"+s.FileName+"》无法读取，请查看材料包中的原文件）")
			}
		case schedules.Video:
			d.paragraph("Body", "（视频《"+s.FileName+"》见材料包）")
		}
	}
	d.photoTable(cells)
	return nil
}

// stripKeyword removes the chat's label from the start of a report:
// "本周典型做法：" or "东风社区安全生产月活动方案：" before the text proper. A
// label is what comes before the first colon when it is short, holds no
// sentence punctuation and names one of the task's keywords or its name.
func stripKeyword(text string, t *schedules.Task) string {
	s := strings.TrimSpace(text)
	i := strings.IndexAny(s, "：:")
	if i < 0 {
		return s
	}
	label := s[:i]
	if len([]rune(label)) > 20 || strings.ContainsAny(label, "，。；！？,.;!?\n") {
		return s
	}
	for _, k := range append([]string{t.Name}, t.Keywords...) {
		if k != "" && strings.Contains(label, k) {
			_, size := utf8.DecodeRuneInString(s[i:])
			return strings.TrimSpace(s[i+size:])
		}
	}
	return s
}

// shortCaption is text when it reads as a photo's caption: a short phrase
// ("消防演练现场"), not a sentence of the report, which stays in the text.
func shortCaption(text string) string {
	text = strings.TrimRightFunc(strings.TrimSpace(text), func(r rune) bool { return unicode.IsPunct(r) })
	if text == "" || len([]rune(text)) > 15 || strings.IndexFunc(text, func(r rune) bool { return unicode.IsPunct(r) || r == '\n' }) >= 0 {
		return ""
	}
	return text
}

// chineseOrdinal is 一, 二 … 九十九 for section headings.
func chineseOrdinal(n int) string {
	digits := []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n <= 0 || n >= 100:
		return fmt.Sprint(n)
	case n < 10:
		return digits[n]
	case n < 20:
		return "十" + digits[n%10]
	default:
		return digits[n/10] + "十" + digits[n%10]
	}
}

// printQueue makes the photos' print-size copies a few at a time ahead of
// the writer, in order: decoding and scaling a phone photo takes half a
// second of one core, and the document is written strictly in sequence.
type printQueue struct {
	results []chan printResult
	i       int
	done    chan struct{}
	slots   chan struct{}
}

type printResult struct {
	c   photo.Copy
	err error
}

func (e *Exporter) printCopies(blobs []string) *printQueue {
	workers := runtime.GOMAXPROCS(0)
	q := &printQueue{results: make([]chan printResult, len(blobs)), done: make(chan struct{}), slots: make(chan struct{}, workers)}
	for i := range q.results {
		q.results[i] = make(chan printResult, 1)
	}
	// One dispatcher in order, so the copy the writer waits for is never
	// behind later ones for a slot.
	go func() {
		for i, sum := range blobs {
			select {
			case q.slots <- struct{}{}:
			case <-q.done:
				return
			}
			go func() {
				c, err := PrintCopy(e.Source, e.Prints, sum, e.Warn)
				if errors.Is(err, ErrNoPicture) {
					c, err = photo.Copy{}, nil // the writer says so in words
				}
				q.results[i] <- printResult{c: c, err: err}
			}()
		}
	}()
	return q
}

// next is the following photo's copy; a zero Copy for one that is not a picture.
func (q *printQueue) next() (photo.Copy, error) {
	if q.i >= len(q.results) {
		return photo.Copy{}, fmt.Errorf("more photos asked for than queued")
	}
	r := <-q.results[q.i]
	q.i++
	<-q.slots
	return r.c, r.err
}

func (q *printQueue) stop() { close(q.done) }

// docx writes a WordprocessingML package: the media go into the zip as they
// come; the body, which is only text and references, is kept until close.
type docx struct {
	z        *zip.Writer
	modified time.Time
	body     bytes.Buffer
	rels     bytes.Buffer
	rid      int
	media    int
	drawings int
	exts     map[string]bool
	// ns and ignorable are the namespaces merged Word files use, declared
	// on the document's root.
	ns        map[string]string
	ignorable map[string]bool
	lastTable bool
	err       error
}

func newDocx(w io.Writer) *docx {
	return &docx{z: zip.NewWriter(w), exts: map[string]bool{}, ignorable: map[string]bool{},
		ns: map[string]string{"w": nsW, "r": nsR, "wp": nsWP, "a": nsA, "pic": nsPic, "mc": nsMC}}
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (d *docx) paragraph(style, text string) {
	d.lastTable = false
	fmt.Fprintf(&d.body, `<w:p><w:pPr><w:pStyle w:val="%s"/></w:pPr><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, style, esc(text))
}

// create adds a part to the package, dated like the document.
func (d *docx) create(name string, method uint16) (io.Writer, error) {
	return d.z.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: d.modified})
}

// addMedia stores a picture and returns its relationship id.
func (d *docx) addMedia(data []byte, ext string) (string, error) {
	d.media++
	name := fmt.Sprintf("media/image%d.%s", d.media, ext)
	f, err := d.create("word/"+name, zip.Store) // pictures are compressed already
	if err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	d.exts[ext] = true
	return d.relationship(relImage, name, false), nil
}

func (d *docx) relationship(typ, target string, external bool) string {
	d.rid++
	id := fmt.Sprintf("rIdX%d", d.rid)
	mode := ""
	if external {
		mode = ` TargetMode="External"`
	}
	fmt.Fprintf(&d.rels, `<Relationship Id="%s" Type="%s" Target="%s"%s/>`, id, esc(typ), esc(target), mode)
	return id
}

// inline is the run showing picture rid at cx×cy EMU.
func (d *docx) inline(rid string, cx, cy int64) string {
	d.drawings++
	n := d.drawings
	return fmt.Sprintf(`<w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">`+
		`<wp:extent cx="%d" cy="%d"/><wp:docPr id="%d" name="图片%d"/>`+
		`<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">`+
		`<pic:pic><pic:nvPicPr><pic:cNvPr id="%d" name="图片%d"/><pic:cNvPicPr/></pic:nvPicPr>`+
		`<pic:blipFill><a:blip r:embed="%s"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>`+
		`<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="%d" cy="%d"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>`+
		`</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>`,
		cx, cy, n, n, n, n, rid, cx, cy)
}

// Sizes on the page, in EMU: a photo fills its half of the 15.9 cm text
// width, up to 8.5 cm high so that a portrait pair and captions take less
// than half a page.
const (
	emuPerCm  = 360000
	cellTwips = 4513 // half of A4's text width with 2.54 cm margins
	photoMaxW = 74 * emuPerCm / 10
	photoMaxH = 85 * emuPerCm / 10
)

func fitEMU(w, h int, maxW, maxH int64) (int64, int64) {
	if w <= 0 || h <= 0 {
		return maxW, maxH
	}
	cx, cy := maxW, maxW*int64(h)/int64(w)
	if cy > maxH {
		cx, cy = maxH*int64(w)/int64(h), maxH
	}
	return cx, cy
}

// photoCell is a photo already written into the package: its relationship
// id and its size in pixels, for the layout.
type photoCell struct {
	rid           string
	width, height int
	caption       string
}

// photoTable lays photos out two to a row in a table without borders, each
// cell a photo over its caption; a row never breaks across pages.
func (d *docx) photoTable(cells []photoCell) {
	if len(cells) == 0 {
		return
	}
	if d.lastTable {
		d.body.WriteString(`<w:p/>`) // two tables in a row would merge into one
	}
	none := ""
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		none += `<w:` + side + ` w:val="nil"/>`
	}
	d.body.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:jc w:val="center"/><w:tblBorders>` + none + `</w:tblBorders>` +
		`<w:tblLayout w:type="fixed"/><w:tblLook w:val="0000"/></w:tblPr>` +
		fmt.Sprintf(`<w:tblGrid><w:gridCol w:w="%d"/><w:gridCol w:w="%d"/></w:tblGrid>`, cellTwips, cellTwips))
	for i := 0; i < len(cells); i += 2 {
		d.body.WriteString(`<w:tr><w:trPr><w:cantSplit/></w:trPr>`)
		for j := i; j < i+2; j++ {
			fmt.Fprintf(&d.body, `<w:tc><w:tcPr><w:tcW w:w="%d" w:type="dxa"/></w:tcPr>`, cellTwips)
			if j < len(cells) {
				c := cells[j]
				cx, cy := fitEMU(c.width, c.height, photoMaxW, photoMaxH)
				d.body.WriteString(`<w:p><w:pPr><w:pStyle w:val="Picture"/></w:pPr>` + d.inline(c.rid, cx, cy) + `</w:p>`)
				fmt.Fprintf(&d.body, `<w:p><w:pPr><w:pStyle w:val="Caption"/></w:pPr><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, esc(c.caption))
			} else {
				d.body.WriteString(`<w:p/>`) // a cell ends with a paragraph
			}
			d.body.WriteString(`</w:tc>`)
		}
		d.body.WriteString(`</w:tr>`)
	}
	d.body.WriteString(`</w:tbl>`)
	d.lastTable = true
}

const (
	nsW      = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsR      = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsWP     = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
	nsA      = "http://schemas.openxmlformats.org/drawingml/2006/main"
	nsPic    = "http://schemas.openxmlformats.org/drawingml/2006/picture"
	nsMC     = "http://schemas.openxmlformats.org/markup-compatibility/2006"
	relImage = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
	relLink  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
)

func (d *docx) close() error {
	if d.err != nil {
		return d.err
	}
	var root strings.Builder
	prefixes := make([]string, 0, len(d.ns))
	for p := range d.ns {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		fmt.Fprintf(&root, ` xmlns:%s="%s"`, p, esc(d.ns[p]))
	}
	var ign []string
	for p := range d.ignorable {
		if d.ns[p] != "" {
			ign = append(ign, p)
		}
	}
	if len(ign) > 0 {
		sort.Strings(ign)
		fmt.Fprintf(&root, ` mc:Ignorable="%s"`, strings.Join(ign, " "))
	}
	parts := []struct{ name, body string }{
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<w:document` + root.String() + `><w:body>` + d.body.String() +
			`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr></w:body></w:document>`},
		{"word/styles.xml", stylesXML},
		{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			d.rels.String() + `</Relationships>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"[Content_Types].xml", d.contentTypes()},
	}
	for _, p := range parts {
		f, err := d.create(p.name, zip.Deflate)
		if err != nil {
			return fmt.Errorf("write %s: %w", p.name, err)
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return fmt.Errorf("write %s: %w", p.name, err)
		}
	}
	return d.z.Close()
}

// mediaTypes are the pictures a document may hold: what photos become, and
// the vector formats Word files carry.
var mediaTypes = map[string]string{"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "emf": "image/x-emf", "wmf": "image/x-wmf"}

func (d *docx) contentTypes() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`)
	b.WriteString(`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`)
	for _, ext := range []string{"jpeg", "png", "gif", "emf", "wmf"} {
		if d.exts[ext] {
			fmt.Fprintf(&b, `<Default Extension="%s" ContentType="%s"/>`, ext, mediaTypes[ext])
		}
	}
	b.WriteString(`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>`)
	b.WriteString(`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`)
	return b.String()
}

// stylesXML: 仿宋 body text and 黑体 headings at the sizes of a government
// report. Normal has no indent because merged Word files' paragraphs and
// table cells fall back to it; the 汇编's own text uses Body.
const stylesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
	`<w:styles xmlns:w="` + nsW + `">` +
	`<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="宋体"/><w:sz w:val="24"/><w:lang w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>` +
	`<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="360" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
	`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Body"><w:name w:val="Body Text"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:firstLineChars="200" w:firstLine="480"/><w:jc w:val="both"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Campaign"><w:name w:val="Campaign"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:spacing w:before="240" w:after="60"/></w:pPr><w:rPr><w:rFonts w:eastAsia="黑体"/><w:sz w:val="28"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/></w:pPr><w:rPr><w:rFonts w:eastAsia="黑体"/><w:b/><w:sz w:val="40"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:spacing w:after="480"/></w:pPr><w:rPr><w:rFonts w:eastAsia="楷体"/><w:sz w:val="28"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Body"/><w:pPr><w:keepNext/><w:spacing w:before="360" w:after="120"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:rFonts w:eastAsia="黑体"/><w:sz w:val="32"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Body"/><w:pPr><w:keepNext/><w:spacing w:before="240"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:rFonts w:eastAsia="楷体"/><w:b/><w:sz w:val="30"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/><w:next w:val="Body"/><w:pPr><w:keepNext/><w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Picture"><w:name w:val="Picture"/><w:basedOn w:val="Normal"/><w:pPr><w:keepNext/><w:jc w:val="center"/><w:spacing w:before="120" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Caption"><w:name w:val="caption"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:spacing w:before="60" w:after="200" w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:rFonts w:eastAsia="楷体"/><w:sz w:val="21"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Closing"><w:name w:val="Closing"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:before="480"/></w:pPr><w:rPr><w:rFonts w:eastAsia="黑体"/></w:rPr></w:style>` +
	`<w:style w:type="table" w:styleId="UnitTable"><w:name w:val="Unit Table"/><w:tblPr><w:tblBorders>` +
	`<w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/>` +
	`<w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/>` +
	`<w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders>` +
	`<w:tblCellMar><w:left w:w="108" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>` +
	`</w:styles>`
