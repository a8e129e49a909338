package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"reportbot/photo"
)

// maxPart bounds what is read from one part of a unit's Word file, against zip bombs.
const maxPart = 64 << 20

// include copies the body of a unit's Word file into the 汇编: paragraphs
// and tables with their own formatting, its headings as headings one level
// below the unit's, its pictures at print size. What only makes sense in the
// unit's own file is left out: page setup, list numbering, comments,
// footnote marks, bookmarks; a chart or embedded object becomes a sentence
// pointing to the original. Nothing is written unless the whole body reads.
func (d *docx) include(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("open word file: %w", err)
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
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxPart+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if len(b) > maxPart {
			return nil, fmt.Errorf("%s is too large", name)
		}
		return b, nil
	}
	doc, err := read("word/document.xml")
	if err != nil {
		return err
	}
	m := &merger{d: d, read: read, rels: map[string]sourceRel{}, mapped: map[string]string{}}
	if b, err := read("word/_rels/document.xml.rels"); err == nil {
		m.parseRels(b)
	}
	styles, _ := read("word/styles.xml")
	m.headings = headingStyles(styles)
	var out bytes.Buffer
	if err := m.copyBody(doc, &out); err != nil {
		return err
	}
	if out.Len() > 0 {
		if d.lastTable && bytes.HasPrefix(out.Bytes(), []byte("<w:tbl")) {
			d.body.WriteString(`<w:p/>`)
		}
		d.body.Write(out.Bytes())
		d.lastTable = m.lastTable
	}
	return nil
}

type sourceRel struct{ typ, target, mode string }

// merger carries one Word file's context while its body is copied.
type merger struct {
	d        *docx
	read     func(string) ([]byte, error)
	rels     map[string]sourceRel
	mapped   map[string]string // source relationship id -> the 汇编's; "" when it cannot be kept
	headings map[string]string // source paragraph style id -> the 汇编's heading style
	ns       map[string]string // the file's prefixes
	// lastTable: the body ended with a table.
	lastTable bool
}

func (m *merger) parseRels(b []byte) {
	var r struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
			Mode   string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if xml.Unmarshal(b, &r) != nil {
		return
	}
	for _, rel := range r.Rel {
		m.rels[rel.ID] = sourceRel{rel.Type, rel.Target, rel.Mode}
	}
}

var headingName = regexp.MustCompile(`^(?:heading|标题)\s*([1-9])$`)

// headingStyles maps the file's heading styles (whatever their ids: Word
// in Chinese names them "1", "2") to the 汇编's, one level down since the
// unit's name is the first level.
func headingStyles(styles []byte) map[string]string {
	out := map[string]string{}
	level := func(name string) string {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "title" || name == "标题" {
			return "Heading2"
		}
		if m := headingName.FindStringSubmatch(name); m != nil {
			if m[1] == "1" {
				return "Heading2"
			}
			return "Heading3"
		}
		return ""
	}
	var s struct {
		Style []struct {
			ID   string `xml:"styleId,attr"`
			Name struct {
				Val string `xml:"val,attr"`
			} `xml:"name"`
		} `xml:"style"`
	}
	if xml.Unmarshal(styles, &s) == nil {
		for _, st := range s.Style {
			if l := level(st.Name.Val); l != "" {
				out[st.ID] = l
			}
		}
	}
	for _, id := range []string{"Heading1", "Heading2", "Heading3", "Title"} {
		if _, ok := out[id]; !ok && len(s.Style) == 0 {
			out[id] = level(strings.Replace(id, "Heading", "heading ", 1))
		}
	}
	return out
}

// dropped are body elements of the main namespace that point into parts
// the 汇编 does not carry, or describe the unit file's own pages.
var dropped = map[string]bool{
	"sectPr": true, "numPr": true, "bookmarkStart": true, "bookmarkEnd": true,
	"commentRangeStart": true, "commentRangeEnd": true, "commentReference": true,
	"footnoteReference": true, "endnoteReference": true, "rStyle": true,
	"altChunk": true, "permStart": true, "permEnd": true, "proofErr": true,
	"headerReference": true, "footerReference": true,
}

// objects are the elements that show a part: replaced by a sentence when
// that part cannot come along.
var objects = map[string]bool{"drawing": true, "pict": true, "object": true}

func (m *merger) uri(prefix string) string { return m.ns[prefix] }

// copyBody writes the children of w:body except its page setup, checking
// that elements nest properly since RawToken leaves that to the caller.
func (m *merger) copyBody(doc []byte, out *bytes.Buffer) error {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var stack []xml.Name
	inBody := false
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read document.xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name)
			if len(stack) == 1 {
				if err := m.root(t); err != nil {
					return err
				}
			}
			if len(stack) == 2 && t.Name.Local == "body" && m.uri(t.Name.Space) == nsW {
				inBody = true
				continue
			}
			if inBody && len(stack) == 3 {
				// One block of the body: read it whole, then copy it.
				block := []xml.Token{xml.CopyToken(t)}
				depth := 1
				for depth > 0 {
					tok, err := dec.RawToken()
					if err != nil {
						return fmt.Errorf("read document.xml: %w", err)
					}
					switch u := tok.(type) {
					case xml.StartElement:
						depth++
						stack = append(stack, u.Name)
					case xml.EndElement:
						depth--
						if stack[len(stack)-1] != u.Name {
							return errors.New("document.xml: elements do not nest")
						}
						stack = stack[:len(stack)-1]
					}
					block = append(block, xml.CopyToken(tok))
				}
				if err := m.block(block, out); err != nil {
					return err
				}
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != t.Name {
				return errors.New("document.xml: elements do not nest")
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 1 {
				inBody = false
			}
		}
	}
	if len(stack) != 0 {
		return errors.New("document.xml ends early")
	}
	return nil
}

// root takes the file's namespace declarations onto the 汇编's root, which
// Word requires for every prefix the copied markup uses, and refuses a file
// whose prefixes mean something else than the 汇编's.
func (m *merger) root(t xml.StartElement) error {
	m.ns = map[string]string{}
	var ignorable []string
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			m.ns[a.Name.Local] = a.Value
		case a.Name.Local == "Ignorable":
			ignorable = strings.Fields(a.Value)
		}
	}
	if m.ns["w"] == "" && m.ns[""] == "" {
		return errors.New("document.xml is not a Word document")
	}
	for p, u := range m.ns {
		if p == "" {
			return errors.New("document.xml uses a default namespace")
		}
		if have, ok := m.d.ns[p]; ok && have != u {
			return fmt.Errorf("document.xml binds %s to %s", p, u)
		}
	}
	for p, u := range m.ns {
		m.d.ns[p] = u
	}
	for _, p := range ignorable {
		m.d.ignorable[p] = true
	}
	return nil
}

// block copies one paragraph or table (or other body element).
func (m *merger) block(toks []xml.Token, out *bytes.Buffer) error {
	first := toks[0].(xml.StartElement)
	if m.uri(first.Name.Space) == nsW && dropped[first.Name.Local] {
		return nil
	}
	for i := 0; i < len(toks); i++ {
		switch t := toks[i].(type) {
		case xml.StartElement:
			isW := m.uri(t.Name.Space) == nsW
			end := matching(toks, i)
			switch {
			case isW && dropped[t.Name.Local]:
				i = end
				continue
			case isW && t.Name.Local == "pStyle":
				if h := m.headings[attr(t, "val")]; h != "" {
					out.WriteString(`<w:pStyle w:val="` + h + `"/>`)
				}
				i = end
				continue
			case isW && t.Name.Local == "tblStyle":
				// Word's grid styles draw the borders; without the unit's
				// styles the table would lose them.
				out.WriteString(`<w:tblStyle w:val="UnitTable"/>`)
				i = end
				continue
			case isW && objects[t.Name.Local]:
				ok, err := m.resolve(toks[i : end+1])
				if err != nil {
					return err
				}
				if !ok {
					out.WriteString(`<w:t xml:space="preserve">（此处的图表请查看原文件）</w:t>`)
					i = end
					continue
				}
			}
			m.start(t, out)
		case xml.EndElement:
			out.WriteString("</" + qname(t.Name) + ">")
		case xml.CharData:
			xml.EscapeText(out, t)
		}
	}
	m.lastTable = m.uri(first.Name.Space) == nsW && first.Name.Local == "tbl"
	return nil
}

// matching is the index of the end of the element starting at i.
func matching(toks []xml.Token, i int) int {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks) - 1
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// isRelRef reports whether an attribute names a relationship of the part.
func (m *merger) isRelRef(a xml.Attr) bool {
	if m.uri(a.Name.Space) == nsR {
		return true
	}
	return a.Name.Local == "relid" // VML's o:relid
}

// resolve brings along the parts an object shows; false when one of them
// cannot come (a chart, an embedded workbook, a linked picture).
func (m *merger) resolve(toks []xml.Token) (bool, error) {
	for _, tok := range toks {
		t, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range t.Attr {
			if !m.isRelRef(a) {
				continue
			}
			id, err := m.relationship(a.Value)
			if err != nil {
				return false, err
			}
			if id == "" {
				return false, nil
			}
		}
	}
	return true, nil
}

// relationship is the 汇编's id for the file's relationship id, adding the
// picture or link on first use; "" when it cannot be kept.
func (m *merger) relationship(src string) (string, error) {
	if id, ok := m.mapped[src]; ok {
		return id, nil
	}
	rel, ok := m.rels[src]
	id := ""
	switch {
	case !ok:
	case rel.typ == relLink && rel.mode == "External":
		id = m.d.relationship(relLink, rel.target, true)
	case rel.typ == relImage && rel.mode != "External":
		name := strings.TrimPrefix(rel.target, "/")
		if !strings.HasPrefix(rel.target, "/") {
			name = path.Join("word", rel.target)
		}
		data, err := m.read(name)
		if err != nil {
			break
		}
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
		if c, err := photo.Fit(data, photo.MaxSide, false); err == nil {
			data, ext = c.Data, c.Format
		} else if ext != "emf" && ext != "wmf" {
			break // neither a picture we read nor one Word draws itself
		}
		if id, err = m.d.addMedia(data, ext); err != nil {
			return "", err
		}
	}
	m.mapped[src] = id
	return id, nil
}

// start writes a start tag with its references re-pointed into the 汇编.
func (m *merger) start(t xml.StartElement, out *bytes.Buffer) {
	out.WriteString("<" + qname(t.Name))
	for _, a := range t.Attr {
		v := a.Value
		switch {
		case a.Name.Local == "paraId" || a.Name.Local == "textId":
			continue // must be unique in a document; Word makes new ones
		case t.Name.Local == "docPr" && a.Name.Local == "id" && a.Name.Space == "":
			m.d.drawings++
			v = fmt.Sprint(m.d.drawings)
		case m.isRelRef(a):
			id, _ := m.relationship(v) // resolved already for objects
			if id == "" {
				continue
			}
			v = id
		}
		out.WriteString(" " + qname(a.Name) + `="`)
		xml.EscapeText(out, []byte(v))
		out.WriteString(`"`)
	}
	out.WriteString(">")
}
