package bot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"reportbot/schedules"
)

// judgeCase is one text of the labelled corpus with what the bot would know
// of it when judging.
type judgeCase struct {
	text  string
	facts Facts
}

// judgeContext is the example config and the June schedule's tasks, as the
// corpus test plays them.
func judgeContext(tb testing.TB) (*Config, []*schedules.Task) {
	tb.Helper()
	cfg, err := LoadConfig(filepath.Join("..", "config.example.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := schedules.Load(filepath.Join("..", "schedule.example.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg, s.Tasks
}

// judgeCorpus is every text line of testdata/replies in order, with facts as
// the bot derives them: the sender's unit and admin rights from the config,
// addressed when private or @ the bot, following when the sender's previous
// line was media. Time is left out (the corpus test's clock decides Follows
// there), which changes some decisions but not what is looked at.
func judgeCorpus(tb testing.TB, cfg *Config) []judgeCase {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "replies", "*.txt"))
	if err != nil || len(files) < 2 {
		tb.Fatalf("corpus files %v %v", files, err)
	}
	var cases []judgeCase
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		media := map[string]bool{}
		for _, raw := range strings.Split(string(data), "\n") {
			parts := strings.SplitN(strings.TrimSpace(raw), "|", 3)
			if len(parts) < 2 || strings.HasPrefix(parts[0], "#") || strings.HasPrefix(parts[0], "@") {
				continue
			}
			label := strings.TrimSpace(parts[0])
			sender := strings.TrimSpace(parts[1])
			private := strings.HasSuffix(sender, "(私聊)")
			sender = strings.TrimSpace(strings.TrimSuffix(sender, "(私聊)"))
			name, remark, _ := strings.Cut(sender, "=")
			switch label {
			case "photo", "video", "file":
				media[name] = true
				continue
			}
			if len(parts) != 3 {
				continue
			}
			text := strings.TrimSpace(parts[2])
			at := "@" + cfg.Bot.Name
			addressed := private || strings.Contains(text, at)
			text = strings.Trim(strings.TrimSpace(strings.ReplaceAll(text, at, "")), "\u2005\u00a0 ")
			cases = append(cases, judgeCase{text, Facts{Coordinator: cfg.IsAdmin(remark), Follows: media[name],
				Addressed: addressed, Unit: cfg.UnitOfName(name)}})
			media[name] = false
		}
	}
	if len(cases) < 1000 {
		tb.Fatalf("%d corpus texts", len(cases))
	}
	return cases
}

// BenchmarkJudge is the report rule's cost per text over the labelled
// corpus, each text once in turn (op = one Judge call).
func BenchmarkJudge(b *testing.B) {
	cfg, tasks := judgeContext(b)
	cases := judgeCorpus(b, cfg)
	b.ReportAllocs()
	counted := 0
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		if Judge(cfg, tasks, c.text, c.facts).Counts {
			counted++
		}
	}
	if counted == 0 {
		b.Fatal("nothing counted")
	}
}
