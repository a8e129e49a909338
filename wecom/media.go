package wecom

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	secrets "reportbot/redact"
)

// mediaValidity is how long an inbound media URL works after its callback.
const mediaValidity = 5 * time.Minute

// maxMedia bounds a download (企业微信's largest inbound file is 20 MB).
const maxMedia = 32 << 20

// Decrypt opens an inbound media file: AES-256-CBC with the base64 aeskey
// (padding optional), the IV its first 16 bytes, PKCS#7 padded to 32 bytes.
func Decrypt(aeskey string, data []byte) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(aeskey)
	if err != nil {
		key, err = base64.StdEncoding.DecodeString(aeskey + "=")
	}
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("decrypt media: the aeskey is not 32 bytes of base64")
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("decrypt media: %d bytes is not whole AES blocks", len(data))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("decrypt media: %w", err)
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(out, data)
	n := int(out[len(out)-1])
	if n < 1 || n > 32 || n > len(out) {
		return nil, fmt.Errorf("decrypt media: bad padding %d", n)
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, fmt.Errorf("decrypt media: bad padding")
		}
	}
	return out[:len(out)-n], nil
}

// download fetches and decrypts a media URL before its deadline, trying again
// after a 5xx (downloads were seen to fail now and then) while time is left.
// name is the file's name as the answer gives it ("" when none).
func download(ctx context.Context, hc *http.Client, now func() time.Time, deadline time.Time, url, aeskey string) (data []byte, name string, err error) {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		if now().After(deadline) {
			return nil, "", errors.New("企业微信的文件链接只在5分钟内有效，已过期：请重新发一次")
		}
		data, name, retry, err := fetch(ctx, hc, url)
		if err == nil {
			data, err = Decrypt(aeskey, data)
			return data, name, err
		}
		if !retry || attempt >= 4 {
			return nil, "", err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, "", ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

func fetch(ctx context.Context, hc *http.Client, url string) (data []byte, name string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", false, fmt.Errorf("download media: %s", redact(err.Error()))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", true, fmt.Errorf("download media: %s", redact(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, "", resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests, fmt.Errorf("download media: HTTP %d", resp.StatusCode)
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxMedia+1))
	if err != nil {
		return nil, "", true, fmt.Errorf("download media: %w", err)
	}
	if len(data) > maxMedia {
		return nil, "", false, fmt.Errorf("download media: larger than %d bytes", maxMedia)
	}
	return data, dispositionName(resp.Header.Get("Content-Disposition")), false, nil
}

// dispositionName reads the file name from Content-Disposition, in either
// form (filename*=UTF-8”… or filename="…"); "" when none.
func dispositionName(h string) string {
	_, params, err := mime.ParseMediaType(h)
	if err != nil {
		return ""
	}
	if params["filename"] == "" {
		return ""
	}
	return filepath.Base(params["filename"]) // mime decodes filename* into filename
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// redact removes secrets from a text that may quote a URL or a request.
func redact(s string) string { return secrets.String(s) }

// trimAt strips the leading "@机器人名 " 企业微信 leaves in a group text.
func trimAt(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "@") {
		return s
	}
	if i := strings.IndexAny(s, " \u2005\u00a0\t\n"); i > 0 {
		return strings.TrimSpace(s[i:])
	}
	return ""
}
