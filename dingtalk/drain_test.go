package dingtalk_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/dingtalk"
	"reportbot/dingtalk/dingtalktest"
)

type slowInbox struct {
	mu  sync.Mutex
	got []string
}

func (s *slowInbox) Handle(ctx context.Context, m bot.Message) error {
	time.Sleep(100 * time.Millisecond) // a store commit, a download
	s.mu.Lock()
	s.got = append(s.got, m.Text)
	s.mu.Unlock()
	return nil
}

// Frames are acknowledged as they arrive; a stop must not drop those acked but
// not yet handled: 钉钉 will never deliver them again.
func TestStopHandlesAcknowledgedFrames(t *testing.T) {
	fake := dingtalktest.New(dingtalktest.Config{})
	defer fake.Close()
	c := dingtalk.Config{ClientID: "dingapp", ClientSecret: "appsecret", APIURL: fake.URL(), OapiURL: fake.URL(), GatewayURL: fake.URL()}
	a := dingtalk.New(dingtalk.Options{Config: c, State: &memState{m: map[string]string{}}, Logger: zerolog.Nop(), StartBackoff: 20 * time.Millisecond})
	in := &slowInbox{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, in) }()
	if !fake.WaitDials(1, 10*time.Second) {
		t.Fatal("no dial")
	}
	var ps []dingtalktest.Pushed
	for i := range 5 {
		ps = append(ps, fake.Push(fake.GroupText(zhang, fmt.Sprintf("报送%d", i))))
	}
	for _, p := range ps {
		if ack, ok := fake.WaitAck(p.MessageID, 5*time.Second); !ok || ack.Code != 200 {
			t.Fatalf("ack %+v %v", ack, ok)
		}
	}
	cancel()
	<-done
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.got) != 5 {
		t.Errorf("5 frames acknowledged, %d handled before Run returned: %q", len(in.got), in.got)
	}
}
