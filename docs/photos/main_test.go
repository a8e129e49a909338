package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"reportbot/photo"
	"reportbot/photo/phototest"
)

// A scene stored sideways as write does comes back upright from the print
// copy: same size as seen, and the same colours top and bottom.
func TestSidewaysComesBackUpright(t *testing.T) {
	scene := phototest.Noisy(120, 160, 1)
	jpg := phototest.WithExif(phototest.JPEG(anticlockwise(scene)), 6)
	c, err := photo.Fit(jpg, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Width != 120 || c.Height != 160 {
		t.Fatalf("print copy %d×%d, want 120×160", c.Width, c.Height)
	}
	got, err := jpeg.Decode(bytes.NewReader(c.Data))
	if err != nil {
		t.Fatal(err)
	}
	// Means over the top and bottom bands: the sky is bluer than the ground.
	blue := func(img image.Image, y0, y1 int) (b int) {
		for y := y0; y < y1; y++ {
			for x := 0; x < 120; x++ {
				_, _, bb, _ := img.At(x, y).RGBA()
				b += int(bb >> 8)
			}
		}
		return b / ((y1 - y0) * 120)
	}
	for _, band := range [][2]int{{0, 20}, {140, 160}} {
		want, have := blue(scene, band[0], band[1]), blue(got, band[0], band[1])
		if d := want - have; d < -20 || d > 20 {
			t.Errorf("rows %v: blue %d, want about %d", band, have, want)
		}
	}
}
