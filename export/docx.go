package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	_ "image/gif" // decoders for the photos' sizes
	_ "image/jpeg"
	_ "image/png"
	"io"
	"path"
	"strings"

	"reportbot/bot"
	"reportbot/schedules"
)

// Report writes the compiled report of a task period as a Word document: a
// title, then for each unit a heading, its texts, and its photos each with a
// caption (unit, member, time and the text sent with it). The texts and photos
// inside a Word file a unit sent are taken out and included in their order.
func (e *Exporter) Report(w io.Writer, t *schedules.Task, n int) error {
	p, ok := t.Period(n)
	if !ok {
		return fmt.Errorf("「%s」没有第%d期", t.Name, n)
	}
	reports, err := e.reports(t, n)
	if err != nil {
		return err
	}
	d := newDocx(w)
	title := t.Name
	if l := t.Label(n); l != "" {
		title += " " + l
	}
	d.paragraph("Title", e.Schedule.Name)
	d.paragraph("Title", title+" 汇编")
	done := 0
	for _, r := range reports {
		if r.Status == bot.Reported || r.Status == bot.Late {
			done++
		}
	}
	d.paragraph("Subtitle", fmt.Sprintf("%s　报齐 %d/%d 个单位　导出时间 %s", periodTitle(t, p), done, len(reports), e.now().Format("2006年1月2日 15:04")))
	for _, r := range reports {
		d.paragraph("Heading1", r.Unit+"（"+r.Status.Label()+"）")
		if len(r.Submissions) == 0 {
			d.paragraph("Normal", "未报送。")
			continue
		}
		if err := e.unitSection(d, r); err != nil {
			return err
		}
	}
	return d.close()
}

func (e *Exporter) unitSection(d *docx, r bot.UnitReport) error {
	lastText := map[string]string{} // member -> their latest text, for captions
	for _, s := range r.Submissions {
		when := s.At.Format("1月2日 15:04")
		switch s.Kind {
		case schedules.Text:
			for _, para := range strings.Split(s.Text, "\n") {
				if strings.TrimSpace(para) != "" {
					d.paragraph("Normal", para)
				}
			}
			d.paragraph("Note", s.Member+"　"+when)
			lastText[s.Member] = s.Text
		case schedules.Image:
			data, err := e.Source.Blob(s.Blob)
			if err != nil {
				return err
			}
			caption := fmt.Sprintf("%s　%s　%s", r.Unit, s.Member, when)
			if text := lastText[s.Member]; text != "" {
				caption += "　" + clip(text, 80)
			}
			d.image(data, caption)
		case schedules.File:
			if !strings.EqualFold(path.Ext(s.FileName), ".docx") {
				d.paragraph("Note", fmt.Sprintf("附件：%s（%s，%s）", s.FileName, s.Member, when))
				continue
			}
			data, err := e.Source.Blob(s.Blob)
			if err != nil {
				return err
			}
			d.paragraph("Heading2", "《"+s.FileName+"》")
			if err := d.include(data, fmt.Sprintf("%s　%s　%s　《%s》中的图片", r.Unit, s.Member, when, s.FileName)); err != nil {
				d.paragraph("Note", fmt.Sprintf("（这个文件打不开，内容没有收入：%v）", err))
			}
		case schedules.Video:
			d.paragraph("Note", fmt.Sprintf("视频：%s（%s，%s），见材料包", s.FileName, s.Member, when))
		}
	}
	return nil
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// docx writes a minimal WordprocessingML package: the media go into the zip
// as they come; the body, which is only text and references, is kept until close.
type docx struct {
	z      *zip.Writer
	body   bytes.Buffer
	rels   bytes.Buffer
	images int
	exts   map[string]bool
	err    error
}

func newDocx(w io.Writer) *docx { return &docx{z: zip.NewWriter(w), exts: map[string]bool{}} }

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (d *docx) paragraph(style, text string) {
	fmt.Fprintf(&d.body, `<w:p><w:pPr><w:pStyle w:val="%s"/></w:pPr><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, style, esc(text))
}

// Largest size of a photo on the page, in EMU (14 cm × 18 cm); pixels are taken at 96 dpi.
const (
	maxWidthEMU  = 14 * 360000
	maxHeightEMU = 18 * 360000
	emuPerPixel  = 9525
)

// image adds a photo and its caption. A photo in a format Word cannot show is named instead.
func (d *docx) image(data []byte, caption string) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		d.paragraph("Note", "（一张无法识别的图片没有收入："+caption+"）")
		return
	}
	ext := map[string]string{"jpeg": "jpeg", "png": "png", "gif": "gif"}[format]
	d.images++
	name := fmt.Sprintf("media/image%d.%s", d.images, ext)
	f, err := d.z.CreateHeader(&zip.FileHeader{Name: "word/" + name, Method: zip.Store})
	if err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		d.err = err
		return
	}
	d.exts[ext] = true
	rid := fmt.Sprintf("rIdImg%d", d.images)
	fmt.Fprintf(&d.rels, `<Relationship Id="%s" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="%s"/>`, rid, name)
	cx, cy := int64(cfg.Width)*emuPerPixel, int64(cfg.Height)*emuPerPixel
	if cx > maxWidthEMU {
		cx, cy = maxWidthEMU, cy*maxWidthEMU/cx
	}
	if cy > maxHeightEMU {
		cx, cy = cx*maxHeightEMU/cy, maxHeightEMU
	}
	fmt.Fprintf(&d.body, `<w:p><w:pPr><w:pStyle w:val="Picture"/></w:pPr><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">`+
		`<wp:extent cx="%d" cy="%d"/><wp:docPr id="%d" name="图片%d"/>`+
		`<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">`+
		`<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="%d" name="image%d.%s"/><pic:cNvPicPr/></pic:nvPicPr>`+
		`<pic:blipFill><a:blip r:embed="%s"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>`+
		`<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="%d" cy="%d"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>`+
		`</a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>`,
		cx, cy, d.images, d.images, d.images, d.images, ext, rid, cx, cy)
	d.paragraph("Caption", fmt.Sprintf("图%d　%s", d.images, caption))
}

// maxPart bounds what is read from one part of a unit's Word file, against zip bombs.
const maxPart = 64 << 20

// include copies the paragraphs and pictures of a unit's .docx, in their order.
func (d *docx) include(data []byte, caption string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string) ([]byte, error) {
		f := files[name]
		if f == nil {
			return nil, fmt.Errorf("no %s", name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxPart+1))
		if len(b) > maxPart {
			return nil, fmt.Errorf("%s is too large", name)
		}
		return b, err
	}
	doc, err := read("word/document.xml")
	if err != nil {
		return err
	}
	targets := map[string]string{}
	if rels, err := read("word/_rels/document.xml.rels"); err == nil {
		var r struct {
			Rel []struct {
				ID     string `xml:"Id,attr"`
				Target string `xml:"Target,attr"`
			} `xml:"Relationship"`
		}
		if xml.Unmarshal(rels, &r) == nil {
			for _, rel := range r.Rel {
				targets[rel.ID] = path.Join("word", rel.Target)
			}
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var text strings.Builder
	flush := func() {
		if s := strings.TrimSpace(text.String()); s != "" {
			d.paragraph("Normal", s)
		}
		text.Reset()
	}
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "t":
				inText = true
			case "tab":
				text.WriteString("\t")
			case "blip":
				for _, a := range tok.Attr {
					if a.Name.Local == "embed" {
						flush()
						if img, err := read(targets[a.Value]); err == nil {
							d.image(img, caption)
						}
					}
				}
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "t":
				inText = false
			case "p":
				flush()
			}
		case xml.CharData:
			if inText {
				text.Write(tok)
			}
		}
	}
	flush()
	return nil
}

const (
	nsW  = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsR  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsWP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
)

func (d *docx) close() error {
	if d.err != nil {
		return d.err
	}
	parts := []struct{ name, body string }{
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<w:document xmlns:w="` + nsW + `" xmlns:r="` + nsR + `" xmlns:wp="` + nsWP + `"><w:body>` + d.body.String() +
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
		f, err := d.z.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return err
		}
	}
	return d.z.Close()
}

func (d *docx) contentTypes() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`)
	b.WriteString(`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`)
	for _, ext := range []string{"jpeg", "png", "gif"} {
		if d.exts[ext] {
			fmt.Fprintf(&b, `<Default Extension="%s" ContentType="image/%s"/>`, ext, ext)
		}
	}
	b.WriteString(`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>`)
	b.WriteString(`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`)
	return b.String()
}

// stylesXML: 宋体 body text, 黑体 headings, the sizes of a government report.
const stylesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
	`<w:styles xmlns:w="` + nsW + `">` +
	`<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="宋体"/><w:sz w:val="24"/><w:lang w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>` +
	`<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="360" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
	`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:pPr><w:ind w:firstLineChars="200" w:firstLine="480"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:ind w:firstLine="0"/></w:pPr><w:rPr><w:rFonts w:eastAsia="黑体"/><w:b/><w:sz w:val="36"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:ind w:firstLine="0"/><w:spacing w:after="360"/></w:pPr><w:rPr><w:color w:val="595959"/><w:sz w:val="21"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:spacing w:before="360" w:after="120"/><w:ind w:firstLine="0"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:rFonts w:eastAsia="黑体"/><w:b/><w:sz w:val="30"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:ind w:firstLine="0"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:rFonts w:eastAsia="楷体"/><w:b/><w:sz w:val="26"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Picture"><w:name w:val="Picture"/><w:basedOn w:val="Normal"/><w:pPr><w:keepNext/><w:jc w:val="center"/><w:ind w:firstLine="0"/><w:spacing w:before="120" w:after="0"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Caption"><w:name w:val="caption"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:ind w:firstLine="0"/><w:spacing w:after="240"/></w:pPr><w:rPr><w:rFonts w:eastAsia="楷体"/><w:sz w:val="21"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Note"><w:name w:val="Note"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="right"/><w:ind w:firstLine="0"/></w:pPr><w:rPr><w:color w:val="7F7F7F"/><w:sz w:val="18"/></w:rPr></w:style>` +
	`</w:styles>`
