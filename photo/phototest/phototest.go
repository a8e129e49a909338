// Package phototest makes test photos that behave like a phone's: smooth
// scenes with sensor noise, so that sizes measured with them mean something
// (flat colours compress a hundredfold better than any real photo), and EXIF
// orientation spliced in as cameras write it.
package phototest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math/rand/v2"
)

// Noisy is a w×h scene (a sky-to-ground gradient with a few blocks of
// colour) under texture that survives scaling down (random 4×4-pixel cells
// of ±24 levels, like gravel or leaves) and per-pixel noise of about ±6
// levels, different for every seed. At 3000×4000 it is about as large as a
// phone's JPEG, and so is its print-size copy.
func Noisy(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type block struct {
		x0, y0, x1, y1 int
		c              [3]int
	}
	var blocks []block
	for i := 0; i < 6; i++ {
		x0, y0 := r.IntN(w), r.IntN(h)
		blocks = append(blocks, block{x0, y0, x0 + w/4 + r.IntN(w/3+1), y0 + h/5 + r.IntN(h/4+1),
			[3]int{r.IntN(200) + 30, r.IntN(200) + 30, r.IntN(200) + 30}})
	}
	cw := (w + 3) / 4
	cells := make([]int8, cw*((h+3)/4))
	for i := range cells {
		cells[i] = int8(r.IntN(49) - 24)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			tx := int(cells[(y/4)*cw+x/4])
			c := [3]int{90 + 100*y/h + tx, 120 + 60*x/w + tx, 200 - 120*y/h + tx}
			for _, b := range blocks {
				if x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 {
					c = b.c
				}
			}
			i := img.PixOffset(x, y)
			n := r.Uint64()
			for k := 0; k < 3; k++ {
				// Sum of two small uniforms: a rough bell curve.
				v := c[k] + int(n>>(8*k)&7) + int(n>>(8*k+32)&7) - 7
				img.Pix[i+k] = uint8(min(max(v, 0), 255))
			}
			img.Pix[i+3] = 255
		}
	}
	return img
}

// JPEG encodes img at the quality phones use.
func JPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		panic(err) // only for in-memory images built by the test itself
	}
	return b.Bytes()
}

// WithExif splices an APP1 Exif segment holding orientation o right after
// the JPEG's SOI marker, big-endian as many phones write it.
func WithExif(jpg []byte, o uint16) []byte { return WithExifOrder(jpg, o, binary.BigEndian) }

// WithExifOrder is WithExif in the byte order given: phones write both.
func WithExifOrder(jpg []byte, o uint16, bo binary.ByteOrder) []byte {
	tiff := make([]byte, 8+2+12+4)
	copy(tiff, "MM")
	if bo == binary.LittleEndian {
		copy(tiff, "II")
	}
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)
	bo.PutUint16(tiff[10:], 0x0112)
	bo.PutUint16(tiff[12:], 3)
	bo.PutUint32(tiff[14:], 1)
	bo.PutUint16(tiff[18:], o)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}
