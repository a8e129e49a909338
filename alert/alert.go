// Package alert tells the admins about trouble through a channel that does not
// need WeChat: a webhook, such as a 企业微信 group robot.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Formats of the webhook's body.
const (
	// WeCom is a 企业微信 (WeCom) group robot: {"msgtype":"text","text":{"content":…}}.
	WeCom = "wecom"
	// JSON is a generic POST: {"source":"reportbot","time":…,"text":…}.
	JSON = "json"
)

// Webhook posts alerts to a URL.
type Webhook struct {
	URL    string
	Format string
	// Client defaults to one with a 10 s timeout.
	Client *http.Client
	Now    func() time.Time
}

// Alert posts text. It fails when the endpoint does not accept it, so the
// caller can log that the admins were not told.
func (w *Webhook) Alert(ctx context.Context, text string) error {
	if w.URL == "" {
		return errors.New("alert: no webhook configured")
	}
	var body any
	switch w.Format {
	case WeCom, "":
		body = map[string]any{"msgtype": "text", "text": map[string]string{"content": text}}
	case JSON:
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		body = map[string]string{"source": "reportbot", "time": now().Format(time.RFC3339), "text": text}
	default:
		return fmt.Errorf("alert: format %q: use %q or %q", w.Format, WeCom, JSON)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("alert: post: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alert: webhook answered %s: %s", resp.Status, reply)
	}
	if w.Format == WeCom || w.Format == "" {
		// A WeCom robot answers 200 with an error code in the body.
		var r struct {
			ErrCode int    `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if json.Unmarshal(reply, &r) == nil && r.ErrCode != 0 {
			return fmt.Errorf("alert: webhook refused: %d %s", r.ErrCode, r.ErrMsg)
		}
	}
	return nil
}
