package export

import (
	"archive/zip"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"reportbot/schedules"
)

// PhotosName is the file name of a period's photos ZIP.
func PhotosName(t *schedules.Task, n int) string { return fileBase(t, n) + "-照片.zip" }

// Photos streams the original photos of a task period as a flat ZIP, each
// named by its unit in config order ("东风社区-1.jpg"), dated when it was sent:
// what a coordinator picks pictures from for a poster or a report upward,
// where the materials archive's folders per unit and member would be in the way.
// The files are the originals as the store keeps them, never re-encoded.
func (e *Exporter) Photos(w io.Writer, t *schedules.Task, n int) error {
	reports, err := e.reports(t, n)
	if err != nil {
		return err
	}
	z := zip.NewWriter(w)
	used := map[string]bool{}
	for _, r := range reports {
		i := 0
		for _, s := range r.Submissions {
			if s.Kind != schedules.Image {
				continue
			}
			data, err := e.Source.Blob(s.Blob)
			if err != nil {
				return fmt.Errorf("photos of %s: %w", r.Unit, err)
			}
			if data == nil {
				continue // gone from the store: nothing to put in
			}
			i++
			name := unique(fmt.Sprintf("%s-%d%s", SafeName(r.Unit, 40), i, imageExt(s.FileName, data)), used)
			// Stored: photos are compressed already.
			f, err := z.CreateHeader(&zip.FileHeader{Name: name, Modified: e.entryTime(s.At), Method: zip.Store})
			if err != nil {
				return err
			}
			if _, err := f.Write(data); err != nil {
				return err
			}
		}
	}
	return z.Close()
}

// imageExt is the extension a photo's file gets: the original name's when it
// had one, or the one its content says, since photos sent in a chat usually
// come without a name and a file without extension does not open on a click.
func imageExt(original string, data []byte) string {
	if ext := strings.ToLower(path.Ext(original)); ext != "" && len(ext) <= 6 {
		return ext
	}
	if len(data) > 12 && string(data[4:8]) == "ftyp" && strings.HasPrefix(string(data[8:12]), "hei") {
		return ".heic"
	}
	switch http.DetectContentType(data) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/bmp":
		return ".bmp"
	}
	return ""
}
