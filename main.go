// Command reportbot runs a reporting campaign in a WeChat work group: it sends
// the scheduled reminders, collects and attributes reports, and answers who
// has reported. See README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // Asia/Shanghai on a bare container

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/console"
	"reportbot/redact"
	"reportbot/schedules"
	"reportbot/store"
	"reportbot/web"
)

var (
	//go:embed config.example.toml
	exampleConfig []byte
	//go:embed schedule.example.toml
	exampleSchedule []byte
)

const usage = `reportbot：在微信工作群里催收报送材料的机器人。

用法：
  reportbot run   [--config config.toml] [--data DIR] [--schedule F]
        用机器人的微信号登录，在设置文件里的群中运行（首次运行扫码登录）
  reportbot demo  [--script FILE] [--config F] [--schedule F] [--data DIR]
        在终端里的本地群演示：播放内置的六月前两周（或 FILE），然后（在终端里）可以继续输入
  reportbot check [--config F] [--schedule F] [--all] [--from DATE]
        检查设置文件和日程文件，列出接下来14天要发的消息
  reportbot export [--config F] [--data DIR | --db FILE] [--task T [--period N] | --all] [--out DIR]
        从停止的机器人的数据（或备份文件）导出统计表、汇编和材料包
  reportbot restore [--data DIR] 备份文件
        停止机器人后，用 backups/ 里的一份备份换回数据库
  reportbot compact [--data DIR]
        停止机器人后，压缩数据库文件（删掉的数据腾出的空间还给磁盘）
  reportbot help
        显示本说明

每个子命令的参数：reportbot <子命令> --help
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "demo":
		err = demoCmd(ctx, args[1:], stdin, stdout, stderr)
	case "check":
		err = checkCmd(args[1:], stdout, stderr)
	case "export":
		err = exportCmd(args[1:], stdout, stderr)
	case "restore":
		err = restoreCmd(args[1:], stdout, stderr)
	case "compact":
		err = compactCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "reportbot: 没有子命令 %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, store.ErrDamaged):
		fmt.Fprintf(stderr, "reportbot %s: %v\n", args[0], err)
		return exitDamaged
	}
	fmt.Fprintf(stderr, "reportbot %s: %v\n", args[0], err)
	return 1
}

var errUsage = errors.New("usage")

// parseFlags parses a subcommand's flags; it takes no other arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: 多余的参数 %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

// timeNow is the wall clock, read here at the edge and handed to the domain.
var timeNow = time.Now

// now is the wall clock in the campaign's zone, where people read times
// (alerts, export and backup names, logs): the process's own zone is
// whatever the server or container happens to have, often UTC.
func (f *files) now() time.Time { return timeNow().In(f.schedule.Location) }

// newLogger writes readable lines to a terminal and JSON otherwise, with
// session secrets taken out of every line and times in loc, the campaign's
// zone (nil: the process's).
func newLogger(w io.Writer, level string, loc *time.Location) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	if loc == nil {
		loc = time.Local
	}
	out := io.Writer(redactor{w})
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05", TimeLocation: loc}
	}
	return zerolog.New(out).Level(lvl).Hook(stampIn{loc}), nil
}

// stampIn stamps each line with the time in a zone, as Timestamp() would in
// the process's zone (zerolog's TimestampFunc is one global for all loggers).
type stampIn struct{ loc *time.Location }

func (s stampIn) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Time(zerolog.TimestampFieldName, timeNow().In(s.loc))
}

// redactor writes log lines with the secrets they quote replaced by "…"
// (redact knows the shapes: session keys, tokens, webhook keys, cookies).
type redactor struct{ w io.Writer }

func (r redactor) Write(p []byte) (int, error) {
	if _, err := r.w.Write(redact.Bytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// files are the config and schedule a command runs with.
type files struct {
	config     *bot.Config
	settings   *settings
	configPath string
	// schedules are the campaigns' files; schedule is the earliest campaign.
	schedules *scheduleFiles
	schedule  *schedules.Schedule
}

// loadFiles reads the config and the schedules. Empty paths mean the example
// files built into the binary; the schedule path defaults to the config's. It
// may name a folder: one schedule file per campaign.
func loadFiles(configPath, schedulePath string) (*files, error) {
	return loadFilesFor(configPath, schedulePath, "")
}

// loadFilesFor is loadFiles for a bot on platform (see parseSettingsFor):
// the demo's console needs none of a chat platform's settings.
func loadFilesFor(configPath, schedulePath, platform string) (*files, error) {
	f := &files{configPath: configPath}
	var err error
	if configPath == "" {
		f.configPath = "config.example.toml"
		f.settings, err = parseSettingsFor(f.configPath, exampleConfig, platform)
	} else {
		f.settings, err = loadSettingsFor(configPath, platform)
	}
	if err != nil {
		return nil, err
	}
	f.config = f.settings.Config
	if schedulePath == "" && configPath != "" && f.config.Bot.Schedule != "" {
		schedulePath = f.config.Bot.Schedule
		if !filepath.IsAbs(schedulePath) {
			schedulePath = filepath.Join(filepath.Dir(configPath), schedulePath)
		}
	}
	if f.schedules, err = openScheduleFiles(schedulePath); err != nil {
		return nil, err
	}
	f.schedule = f.schedules.first()
	return f, nil
}

// dataDir is the --data flag if given, else the config's data_dir, relative to the config file.
func (f *files) dataDir(flag string) string {
	if flag != "" {
		return flag
	}
	dir := f.config.Bot.DataDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(f.configPath), dir)
	}
	return dir
}

func checkCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot check [参数]\n\n"+
			"检查设置文件和日程文件，有错误时列出每一处（文件:行号）；没有错误时列出接下来14天（--all：整个活动）要发的每条消息。\n"+
			"--explain 说明群里的一句话算不算报送。\n\n参数：\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "设置文件（默认：内置的 config.example.toml）")
	schedulePath := fs.String("schedule", "", "日程文件（默认：设置文件里的 schedule）")
	all := fs.Bool("all", false, "列出整个活动要发的消息，而不只是接下来14天")
	from := fs.String("from", "", "从这一天（2026-06-01）算起的14天，默认今天")
	explain := fs.String("explain", "", "说明群里的这句话算不算报送、为什么（按现在的日程和设置）")
	sender := fs.String("sender", "", "配合 --explain：发这句话的人的群昵称（默认：第一个单位的成员）；写管理员的备注名则按管理员算")
	follows := fs.Bool("follows", false, "配合 --explain：这个人10分钟内刚发过照片或文件")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := loadFiles(*configPath, *schedulePath)
	if err != nil {
		return err
	}
	set := f.schedules.Set()
	if *explain != "" {
		return explainText(stdout, f, set, *explain, *sender, *follows, *from)
	}
	// stdout is one line per message; what was checked goes to stderr.
	fmt.Fprintf(stderr, "%s：正确，%d 个报送单位，管理员 %s\n", f.configPath, len(f.config.Units), strings.Join(f.config.Bot.Admins, "、"))
	for _, w := range f.config.Warnings() {
		fmt.Fprintf(stderr, "%s：注意：%s\n", f.configPath, w)
	}
	for _, s := range set.All() {
		fmt.Fprintf(stderr, "%s：正确，「%s」%s 至 %s，%d 项任务\n", s.Source, s.Name, s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly), len(s.Tasks))
	}
	loc := f.schedule.Location
	start := time.Now().In(loc)
	if *from != "" {
		start, err = time.ParseInLocation(time.DateOnly, *from, loc)
		if err != nil {
			return fmt.Errorf("--from %q: 写成 2026-06-01", *from)
		}
	}
	var events []schedules.Event
	if *all {
		events = campaignEvents(set, start)
	} else {
		events = set.Events(start.Add(-time.Nanosecond), start.AddDate(0, 0, 14))
		if len(events) == 0 {
			fmt.Fprintf(stderr, "%s 到 %s 之间没有要发的消息（用 --all 看整个活动，或 --from 指定日期）\n", start.Format(time.DateOnly), start.AddDate(0, 0, 14).Format(time.DateOnly))
		}
	}
	for _, e := range events {
		tag := ""
		if len(set.All()) > 1 {
			tag = e.Campaign.ID + " "
		}
		fmt.Fprintln(stdout, tag+e.Describe())
	}
	for _, s := range set.All() {
		if s.ID == "" {
			id, line, before := s.ProposeID()
			fmt.Fprintf(stderr, "建议在 %s 第%d行 %s 之前加一行：id = %q（活动的固定代号，以后改名也不会把数据弄混）\n", s.Source, line, before, id)
		}
	}
	return nil
}

// explainText prints the report rule's decision on one line of group text
// (check --explain): whether it counts, why, and for which task.
func explainText(out io.Writer, f *files, set *schedules.Set, text, sender string, follows bool, day string) error {
	cfg := f.config
	now := time.Now().In(f.schedule.Location)
	if day != "" {
		t, err := time.ParseInLocation(time.DateOnly, day, f.schedule.Location)
		if err != nil {
			return fmt.Errorf("--from %q: 写成 2026-06-01", day)
		}
		now = t.Add(10 * time.Hour)
	}
	open := set.Open(now)
	if len(open) == 0 {
		open = set.Current(now)
	}
	facts := bot.Facts{Follows: follows, Unit: cfg.UnitOfName(sender)}
	who := sender
	switch {
	case sender == "" && len(cfg.Units) > 0:
		who, facts.Unit = cfg.Units[0].Name+"的成员", &cfg.Units[0]
	case cfg.IsAdmin(sender):
		facts.Coordinator, who = true, sender+"（管理员）"
	case cfg.UnitOfName(sender) == nil:
		facts.Coordinator, who = true, sender+"（不属于任何单位）"
	}
	v := bot.Judge(cfg, schedules.Tasks(open), strings.TrimSpace(text), facts)
	verdict := "不算报送"
	if v.Counts {
		verdict = "算报送"
	}
	fmt.Fprintf(out, "%s：%s。%s", who, verdict, v.Why)
	if v.Counts && v.Task != nil {
		fmt.Fprintf(out, "；记到「%s」", v.Task.Name)
	}
	fmt.Fprintln(out)
	return nil
}

// campaignEvents is every message of the campaigns not ended at t (open or to
// come), each over its whole span; when all have ended, of the last one.
func campaignEvents(set *schedules.Set, t time.Time) []schedules.Event {
	var list []*schedules.Schedule
	for _, c := range set.All() {
		if !c.End.Before(t) {
			list = append(list, c)
		}
	}
	if len(list) == 0 {
		list = set.Current(t)
	}
	var out []schedules.Event
	for _, c := range list {
		out = append(out, c.Events(c.Start.AddDate(0, 0, -8), c.End.AddDate(0, 0, 8))...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func demoCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot demo [参数]\n\n"+
			"在终端里的本地群演示，不连任何平台：播放内置的六月前两周（或 --script 的脚本），然后可以接着输入群消息和私聊。\n"+
			"演示里“导出”的文件写在数据目录的 exports/ 下，结束时会说在哪里。\n\n参数：\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "设置文件（默认：内置的 config.example.toml）")
	schedulePath := fs.String("schedule", "", "日程文件（默认：内置的 schedule.example.toml，或设置文件里的 schedule）")
	dataDir := fs.String("data", "", "数据目录，演示结束后保留（默认：新建一个临时目录，结束时删除，只留下“导出”的文件）")
	script := fs.String("script", "", "播放这个脚本文件后退出；- 表示从标准输入逐行读（默认：播放内置的演示，然后在终端里继续输入）")
	logLevel := fs.String("log-level", "warn", "日志级别：debug、info、warn、error（日志写到 stderr）")
	withWeb := fs.Bool("web", false, "同时开网页看板（地址见设置文件 [web]），演示结束后继续运行到 Ctrl-C；管理员私聊机器人“看板”得到登录链接")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := loadFilesFor(*configPath, *schedulePath, "console")
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, f.schedule.Location)
	if err != nil {
		return err
	}
	var dashboard *swappable
	// The dashboard is stopped and its handlers joined before the bot's store closes.
	webCtx, stopWeb := context.WithCancel(ctx)
	defer stopWeb()
	var webWG sync.WaitGroup
	stopDashboard := func() { stopWeb(); webWG.Wait() }
	if *withWeb {
		if f.settings.Web.Listen == "" {
			return errors.New("设置文件里 [web] listen 是空的：写上看板的地址，如 \"127.0.0.1:8080\"")
		}
		dashboard = &swappable{}
		if err := serveDashboard(webCtx, &webWG, f.settings.Web.Listen, dashboard, log); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "看板：%s（管理员私聊机器人“看板”获取登录链接，如：街道应急办-王科 -> bot: 看板）\n", f.settings.Web.URL)
	}
	dir := *dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "reportbot-demo-"); err != nil {
			return err
		}
	}
	defer keepExports(stderr, dir, *dataDir == "")
	p, err := startConsole(ctx, f, dir, stdout, log, dashboard)
	if err != nil {
		stopDashboard()
		return damagedAdvice(err, dir)
	}
	defer p.Close()
	defer stopDashboard()
	// With the dashboard a script only sets the scene: what it played is
	// then looked at in the browser, so the demo stays up until Ctrl-C or
	// SIGTERM, as --web's help says.
	keepServing := func() error {
		if dashboard == nil {
			return nil
		}
		// The answers to the last lines first: they would otherwise wait for the end.
		if err := p.Flush(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "播放完毕，看板 %s 继续运行，按 Ctrl-C 结束。\n", f.settings.Web.URL)
		<-ctx.Done()
		return nil
	}
	if *script == "-" {
		// Line by line as they come: another program can drive the console bot
		// and read its answers (the start-up and memory benchmarks do).
		if err := p.Play(ctx, stdin, "标准输入", console.DirFiles(".")); err != nil {
			return err
		}
		return keepServing()
	}
	if *script != "" {
		data, err := os.ReadFile(*script)
		if err != nil {
			return err
		}
		if err := p.Play(ctx, bytes.NewReader(data), *script, console.DirFiles(filepath.Dir(*script))); err != nil {
			return err
		}
		return keepServing()
	}
	if err := p.Play(ctx, bytes.NewReader(console.DemoScript), "内置演示", console.FSFiles(console.DemoFiles)); err != nil {
		return err
	}
	if in, ok := stdin.(*os.File); !ok || !isatty.IsTerminal(in.Fd()) {
		return keepServing()
	}
	return interactive(ctx, p, stdin, stdout)
}

// swappable serves the dashboard of the App running now: the console opens a
// new App at every /restart.
type swappable struct{ h atomic.Pointer[web.Server] }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := s.h.Load(); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	http.Error(w, "机器人已停止（/stop）", http.StatusServiceUnavailable)
}

func consoleStatus() bot.TransportStatus {
	return bot.TransportStatus{Platform: "本地群", State: "控制台演示（不连微信）", Online: true}
}

// keepExports tells, when the demo ends, where the files its 导出 wrote
// are: they are what a newcomer wants to open. A temporary data directory
// is removed but for those files.
func keepExports(w io.Writer, dir string, temp bool) {
	exports := filepath.Join(dir, "exports")
	entries, _ := os.ReadDir(exports)
	if temp {
		all, _ := os.ReadDir(dir)
		for _, e := range all {
			if e.Name() != "exports" || len(entries) == 0 {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
		if len(entries) == 0 {
			os.Remove(dir)
			return
		}
		fmt.Fprintf(w, "演示中“导出”的文件留在 %s（临时目录，看完可以删除；用 --data 目录 可以把演示的全部数据留在指定的地方）\n", exports)
		return
	}
	if len(entries) > 0 {
		fmt.Fprintf(w, "演示中“导出”的文件在 %s\n", exports)
	}
}

// startConsole opens the bot in a console group over the data directory, with
// the clock at the start of the campaign (scripts move it with /time). With a
// dashboard, each App the console opens is served there.
func startConsole(ctx context.Context, f *files, dir string, out io.Writer, log zerolog.Logger, dashboard *swappable) (*console.Player, error) {
	// Each message is one Write, so the transcript and log lines on stderr never cut into each other.
	p := &console.Player{
		Out: out, Location: f.schedule.Location, Remarks: f.settings.Console.Remarks, Echo: true,
		Open: func(ctx context.Context, clock *console.Clock, chat bot.Deliverer) (console.Runtime, error) {
			// The console's data is a demo's: no fsync (see store.Options.NoSync).
			app, err := OpenApp(ctx, AppOptions{Config: f.config, Files: f.schedules, Reload: true,
				DataDir: dir, Transport: chat, Backup: f.settings.Backup, Now: clock.Now, SetClock: clock.Set, Logger: log, NoSync: true})
			if err != nil || dashboard == nil {
				return app, err
			}
			srv, err := app.Dashboard(f.config, f.settings.Web.URL, consoleStatus)
			if err != nil {
				app.Close()
				return nil, err
			}
			dashboard.h.Store(srv)
			return app, nil
		},
	}
	// With several campaigns the demo starts with the newest: a standing
	// report that runs all year would otherwise start it in January.
	begin := f.schedule.Start
	for _, c := range f.schedules.Set().All() {
		if c.Start.After(begin) {
			begin = c.Start
		}
	}
	if err := p.Begin(ctx, begin); err != nil {
		return nil, err
	}
	return p, nil
}

// interactive lets the user go on typing lines of the console protocol.
func interactive(ctx context.Context, p *console.Player, stdin io.Reader, out io.Writer) error {
	p.Echo = false
	fmt.Fprintf(out, "\n演示播放完毕。现在是 %s，你可以接着输入（Ctrl-D 结束）：\n"+
		"  东风社区-张三: 本周典型做法……     群消息（也可 /image 路径、/file 路径）\n"+
		"  街道应急办-王科 -> bot: 未报        私聊机器人\n"+
		"  /time 2026-06-18 12:30             把时钟拨到这个时间（到点的提醒会依次发出）\n"+
		"  /restart、/stop、/start            重启、停止、启动机器人\n",
		p.Now().Format("2006-01-02 15:04"))
	sc := bufio.NewScanner(stdin)
	files := console.DirFiles(".")
	for sc.Scan() {
		if err := p.Do(ctx, sc.Text(), files); err != nil {
			fmt.Fprintln(out, "！", err)
		}
		if err := p.Flush(ctx); err != nil {
			fmt.Fprintln(out, "！", err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return sc.Err()
}
