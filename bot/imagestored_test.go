package bot_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"reportbot/bot"
	"reportbot/schedules"
)

// TestImageStoredHook: each image stored is handed on once, after it is in
// the store and its receipt owed; texts, files and replays are not.
func TestImageStoredHook(t *testing.T) {
	h := newHarness(t)
	var got []bot.Submission
	h.bot.ImageStored = func(sub bot.Submission) {
		if ok, err := h.db.HasBlob(sub.Blob); !ok || err != nil {
			t.Errorf("handed on before it was stored: %v", err)
		}
		if len(h.sent()) != 0 {
			t.Error("the receipt was sent before the hook: it must wait out its delay")
		}
		got = append(got, sub)
	}
	h.at("2026-06-03 16:30")
	h.say("东风社区-张三", "本周典型做法：消防疏散演练。")
	h.image("东风社区-张三", []byte(photo))
	imageID := h.last["东风社区-张三"]
	h.media("东风社区-张三", schedules.File, "做法.docx", []byte("PK docx"))
	// The platform delivers the image's message again.
	h.deliver(bot.Message{ID: imageID, Sender: bot.Member{Name: "东风社区-张三"}, Kind: schedules.Image, FileName: "photo.jpg", Size: int64(len(photo)),
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(photo)), nil }})
	if len(got) != 1 || got[0].Kind != schedules.Image || got[0].Blob == "" || got[0].Unit != "东风社区" {
		t.Fatalf("handed on %+v; want the one image", got)
	}
	h.receipts()
	if len(h.sent()) == 0 {
		t.Error("no receipt")
	}
}
