package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWebhookFormats(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		json.NewDecoder(r.Body).Decode(&v)
		got = append(got, v)
		if strings.Contains(r.URL.Path, "refuse") {
			w.Write([]byte(`{"errcode":93000,"errmsg":"invalid webhook url"}`))
			return
		}
		w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := (&Webhook{URL: srv.URL + "/send", Format: WeCom}).Alert(ctx, "需要扫码"); err != nil {
		t.Fatal(err)
	}
	if got[0]["msgtype"] != "text" || got[0]["text"].(map[string]any)["content"] != "需要扫码" {
		t.Errorf("wecom body %v", got[0])
	}
	at := time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)
	if err := (&Webhook{URL: srv.URL, Format: JSON, Now: func() time.Time { return at }}).Alert(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if got[1]["text"] != "x" || got[1]["time"] != "2026-06-04T09:00:00Z" || got[1]["source"] != "reportbot" {
		t.Errorf("json body %v", got[1])
	}
	if err := (&Webhook{URL: srv.URL + "/refuse", Format: WeCom}).Alert(ctx, "x"); err == nil || !strings.Contains(err.Error(), "93000") {
		t.Errorf("refusal not reported: %v", err)
	}
	if err := (&Webhook{URL: srv.URL, Format: "smtp"}).Alert(ctx, "x"); err == nil {
		t.Error("unknown format accepted")
	}
	if err := (&Webhook{}).Alert(ctx, "x"); err == nil {
		t.Error("empty URL accepted")
	}
}
