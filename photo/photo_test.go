package photo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"reportbot/photo/phototest"
)

// halves is a w×h picture, red on the left half and blue on the right.
func halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOrientation(t *testing.T) {
	plain := encodeJPEG(t, halves(8, 4))
	for _, c := range []struct {
		name string
		data []byte
		want int
	}{
		{"no exif", plain, 1},
		{"big endian 6", phototest.WithExifOrder(plain, 6, binary.BigEndian), 6},
		{"little endian 8", phototest.WithExifOrder(plain, 8, binary.LittleEndian), 8},
		{"3", phototest.WithExifOrder(plain, 3, binary.BigEndian), 3},
		{"out of range", phototest.WithExifOrder(plain, 9, binary.BigEndian), 1},
		{"not a jpeg", []byte("\x89PNG\r\n\x1a\n"), 1},
		{"empty", nil, 1},
		{"truncated segment", phototest.WithExifOrder(plain, 6, binary.BigEndian)[:12], 1},
		{"broken length", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, "Exif"...), 1},
	} {
		if got := Orientation(c.data); got != c.want {
			t.Errorf("%s: orientation %d, want %d", c.name, got, c.want)
		}
	}
}

// TestOrientationNeverPanics feeds cut and corrupted headers.
func TestOrientationNeverPanics(t *testing.T) {
	full := phototest.WithExifOrder(encodeJPEG(t, halves(8, 4)), 6, binary.LittleEndian)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := append([]byte{}, full[:r.IntN(60)]...)
		if len(b) > 4 {
			b[2+r.IntN(len(b)-2)] = byte(r.Uint32())
		}
		Orientation(b)
	}
}

func TestPrintSize(t *testing.T) {
	red, blue := color.RGBA{220, 20, 20, 255}, color.RGBA{20, 20, 220, 255}
	wide := encodeJPEG(t, halves(400, 200))
	var small bytes.Buffer
	png.Encode(&small, halves(40, 30))
	for _, c := range []struct {
		name          string
		data          []byte
		max           int
		w, h          int
		kept          bool
		topLeft       color.RGBA // roughly, after scaling and turning
		format        string
		upright       bool
		bottomLeftRed bool
	}{
		{"kept as it is", wide, 1280, 400, 200, true, red, "jpeg", true, true},
		{"scaled", wide, 100, 100, 50, false, red, "jpeg", true, true},
		{"turned right (6)", phototest.WithExifOrder(wide, 6, binary.BigEndian), 1280, 200, 400, false, red, "jpeg", true, false},
		{"turned left (8)", phototest.WithExifOrder(wide, 8, binary.LittleEndian), 100, 50, 100, false, blue, "jpeg", true, true},
		{"upside down (3)", phototest.WithExifOrder(wide, 3, binary.BigEndian), 1280, 400, 200, false, blue, "jpeg", true, false},
		{"orientation ignored when asked", phototest.WithExifOrder(wide, 6, binary.BigEndian), 1280, 400, 200, true, red, "jpeg", false, true},
		{"small png kept", small.Bytes(), 1280, 40, 30, true, red, "png", true, true},
	} {
		got, err := Fit(c.data, c.max, c.upright)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.Width != c.w || got.Height != c.h || got.Format != c.format {
			t.Errorf("%s: %s %d×%d, want %s %d×%d", c.name, got.Format, got.Width, got.Height, c.format, c.w, c.h)
		}
		if kept := bytes.Equal(got.Data, c.data); kept != c.kept {
			t.Errorf("%s: kept %v, want %v", c.name, kept, c.kept)
		}
		img, _, err := image.Decode(bytes.NewReader(got.Data))
		if err != nil {
			t.Errorf("%s: copy does not decode: %v", c.name, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s: decoded %v", c.name, b)
		}
		if !near(img.At(2, 2), c.topLeft) {
			t.Errorf("%s: top left is %v, want about %v", c.name, img.At(2, 2), c.topLeft)
		}
		// A turn and its mirror image differ in the bottom left corner.
		if bl := near(img.At(2, img.Bounds().Dy()-3), red); bl != c.bottomLeftRed {
			t.Errorf("%s: bottom left red %v, want %v", c.name, bl, c.bottomLeftRed)
		}
	}
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { x := int(a>>8) - int(b); return x > -40 && x < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestPrintSizeRefusesWhatIsNotAPhoto(t *testing.T) {
	for name, data := range map[string][]byte{
		"text":      []byte("not an image"),
		"empty":     nil,
		"truncated": encodeJPEG(t, halves(400, 200))[:300],
	} {
		if _, err := PrintSize(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// BenchmarkPrintSize is one 12-megapixel phone photo with sensor noise.
func BenchmarkPrintSize(b *testing.B) {
	data := phototest.JPEG(phototest.Noisy(3000, 4000, 1))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := PrintSize(data); err != nil {
			b.Fatal(err)
		}
	}
}
