// Command photos only makes the README's pictures: docs/render.sh runs it to
// write phone-size JPEGs (3000×4000 and 4000×3000, noisy like real photos, one
// stored sideways with EXIF orientation 6) into a temporary directory, under
// the names of the demo's photos, so the June it plays sends real-size photos.
//
//	go run ./docs/photos DIR
package main

import (
	"fmt"
	"image"
	"os"
	"path/filepath"

	"reportbot/photo/phototest"
)

// A photo of the June: its name, the size of its scene as seen and whether
// it is stored sideways, turned a quarter anticlockwise with EXIF
// orientation 6 ("turn clockwise to show") as phones write it.
type shot struct {
	name     string
	w, h     int
	sideways bool
}

var shots = []shot{
	// Page 1 of the 汇编: its sky must be at the top.
	{"消防演练.jpg", 3000, 4000, true},
	{"河道巡查.jpg", 3000, 4000, false},
	{"应急演练.jpg", 4000, 3000, false},
	{"入户检查.jpg", 3000, 4000, false},
	{"工地检查.jpg", 4000, 3000, false},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./docs/photos DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range shots {
		var img image.Image = phototest.Noisy(s.w, s.h, uint64(i+1))
		if s.sideways {
			img = anticlockwise(img.(*image.RGBA))
		}
		jpg := phototest.JPEG(img)
		if s.sideways {
			jpg = phototest.WithExif(jpg, 6)
		}
		if err := os.WriteFile(filepath.Join(dir, s.name), jpg, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// anticlockwise turns src a quarter turn anticlockwise: its top row becomes
// the new left column, read bottom to top.
func anticlockwise(src *image.RGBA) *image.RGBA {
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(dst.Pix[dst.PixOffset(y, w-1-x):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return dst
}
