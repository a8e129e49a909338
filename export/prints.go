package export

import (
	"errors"
	"fmt"

	"reportbot/photo"
)

// PrintCache keeps the photos' print-size copies beside the originals: the
// store opened for writing. Nil data from PrintCopy means none kept yet.
type PrintCache interface {
	PrintCopy(sum string) ([]byte, error)
	PutPrintCopy(sum string, data []byte) error
}

// ErrNoPicture is PrintCopy's error for media that is no picture it can
// decode (HEIC, WebP, a damaged file) or is missing: a caller shows a
// placeholder or says so in words, where a failing store must stop it.
var ErrNoPicture = errors.New("no picture that can be shown")

// sameAsOriginal is kept for a photo that is already upright and small
// enough: a second copy of it would only double the store. No picture's
// bytes are this short.
var sameAsOriginal = []byte("=")

// PrintCopy returns the print-size copy of the photo stored under sum (see
// photo.PrintSize): the one kept in cache, else one made from the original
// and kept there, so that each photo is decoded and scaled once. cache nil
// makes it every time, as a read-only store must. warn, when not nil, hears
// a copy that could not be kept; the copy is returned all the same. The
// original is never changed.
func PrintCopy(src Source, cache PrintCache, sum string, warn func(error)) (photo.Copy, error) {
	keep := cache != nil
	if cache != nil {
		kept, err := cache.PrintCopy(sum)
		if err != nil {
			return photo.Copy{}, err
		}
		keep = kept == nil
		if kept != nil && string(kept) != string(sameAsOriginal) {
			// Already upright and small: PrintSize only reads its header.
			if c, err := photo.PrintSize(kept); err == nil {
				return c, nil
			}
			keep = true // a damaged copy is made again
		}
	}
	orig, err := src.Blob(sum)
	if err != nil {
		return photo.Copy{}, fmt.Errorf("read photo %.12s: %w", sum, err)
	}
	if orig == nil {
		return photo.Copy{}, fmt.Errorf("photo %.12s not in the store: %w", sum, ErrNoPicture)
	}
	c, err := photo.PrintSize(orig)
	if err != nil {
		return photo.Copy{}, fmt.Errorf("photo %.12s: %w: %w", sum, ErrNoPicture, err)
	}
	if keep {
		data := c.Data
		if len(c.Data) == len(orig) && &c.Data[0] == &orig[0] {
			data = sameAsOriginal
		}
		if err := cache.PutPrintCopy(sum, data); err != nil && warn != nil {
			warn(fmt.Errorf("photo %.12s: %w", sum, err))
		}
	}
	return c, nil
}
