// Package photo makes the print-size copies of the photos units send: small
// enough that a document of a hundred of them can still be mailed, large
// enough to print sharply at half a page, and upright however the phone was
// held. The originals are never changed; callers keep them.
package photo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	_ "image/gif" // decoders for what units send
	"image/jpeg"
	_ "image/png"

	"golang.org/x/image/draw"
)

// MaxSide is the long side of a print-size copy in pixels: at 7.5 cm wide,
// half an A4 text column, that is still well over 300 dpi.
const MaxSide = 1280

// Quality is the JPEG quality of a re-encoded copy: artefacts are invisible in
// print at about a sixth of the size of a phone's own files.
const Quality = 80

// maxPixels refuses images whose decoding alone would take gigabytes: a
// 200-megapixel header is more likely a hostile file than a photo.
const maxPixels = 200 << 20

// Copy is a photo ready to embed.
type Copy struct {
	Data []byte
	// Format is "jpeg", "png" or "gif", as image.Decode names them.
	Format        string
	Width, Height int
}

// PrintSize returns the print-size copy of a photo: its EXIF orientation
// applied and its long side at most MaxSide. A photo that is already upright
// and small enough is returned as it is, so screenshots stay lossless.
func PrintSize(data []byte) (Copy, error) { return Fit(data, MaxSide, true) }

// Fit returns data with its long side at most max pixels, re-encoded as JPEG
// when it had to be scaled or turned. upright applies the EXIF orientation;
// pictures inside a Word file are left as their author saw them laid out,
// because Word does not turn them.
func Fit(data []byte, max int, upright bool) (Copy, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Copy{}, fmt.Errorf("read image header: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return Copy{}, fmt.Errorf("image of %d×%d pixels", cfg.Width, cfg.Height)
	}
	o := 1
	if upright && format == "jpeg" {
		o = Orientation(data)
	}
	w, h := scaled(cfg.Width, cfg.Height, max)
	if o == 1 && w == cfg.Width && h == cfg.Height && (format == "jpeg" || format == "png" || format == "gif") {
		return Copy{Data: data, Format: format, Width: w, Height: h}, nil
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Copy{}, fmt.Errorf("decode %s: %w", format, err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// White under transparent pixels: JPEG has no alpha, and black would
	// swallow a screenshot's transparent margins.
	stddraw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, stddraw.Src)
	// Catmull-Rom's cost grows with the shrink factor: halving first with a
	// box filter, which cannot alias, makes a 12-megapixel photo four times
	// faster and looks the same.
	for {
		b := src.Bounds()
		if b.Dx() < 2*w || b.Dy() < 2*h {
			break
		}
		half := halve(src)
		if half == nil {
			break
		}
		src = half
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
	out := orient(dst, o)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, out, &jpeg.Options{Quality: Quality}); err != nil {
		return Copy{}, fmt.Errorf("encode jpeg: %w", err)
	}
	return Copy{Data: b.Bytes(), Format: "jpeg", Width: out.Bounds().Dx(), Height: out.Bounds().Dy()}, nil
}

// scaled is w×h shrunk so that its long side is at most max, never enlarged.
func scaled(w, h, max int) (int, int) {
	long := w
	if h > long {
		long = h
	}
	if max <= 0 || long <= max {
		return w, h
	}
	sw, sh := (w*max+long/2)/long, (h*max+long/2)/long
	return maxInt(sw, 1), maxInt(sh, 1)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// orient turns img by the EXIF orientation o (1–8): the transform a viewer
// applies to show the photo as it was taken.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // mirrored, turned left
				sx, sy = y, x
			case 6: // turned left when taken: turn right
				sx, sy = y, h-1-x
			case 7: // mirrored, turned right
				sx, sy = w-1-y, h-1-x
			case 8: // turned right when taken: turn left
				sx, sy = w-1-y, x
			}
			si, di := img.PixOffset(sx, sy), dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return dst
}

// halve averages 2×2 blocks of a decoded photo; nil for image types it does
// not know, which are then scaled in one pass.
func halve(src image.Image) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	switch s := src.(type) {
	case *image.YCbCr:
		for y := 0; y < dst.Rect.Dy(); y++ {
			sy := b.Min.Y + 2*y
			for x := 0; x < dst.Rect.Dx(); x++ {
				sx := b.Min.X + 2*x
				var yy, cb, cr int
				for _, p := range [4]image.Point{{sx, sy}, {sx + 1, sy}, {sx, sy + 1}, {sx + 1, sy + 1}} {
					yy += int(s.Y[s.YOffset(p.X, p.Y)])
					ci := s.COffset(p.X, p.Y)
					cb += int(s.Cb[ci])
					cr += int(s.Cr[ci])
				}
				r, g, bl := color.YCbCrToRGB(uint8((yy+2)/4), uint8((cb+2)/4), uint8((cr+2)/4))
				i := dst.PixOffset(x, y)
				dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 255
			}
		}
	case *image.RGBA:
		for y := 0; y < dst.Rect.Dy(); y++ {
			for x := 0; x < dst.Rect.Dx(); x++ {
				a, c := s.PixOffset(b.Min.X+2*x, b.Min.Y+2*y), s.PixOffset(b.Min.X+2*x, b.Min.Y+2*y+1)
				i := dst.PixOffset(x, y)
				for k := 0; k < 4; k++ {
					dst.Pix[i+k] = uint8((int(s.Pix[a+k]) + int(s.Pix[a+4+k]) + int(s.Pix[c+k]) + int(s.Pix[c+4+k]) + 2) / 4)
				}
			}
		}
	default:
		return nil
	}
	return dst
}
