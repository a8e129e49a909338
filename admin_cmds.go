package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/schedules"
	"reportbot/store"
)

func exportCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot export [参数]\n\n"+
			"从停止运行的机器人的数据目录（或 --db 指定的备份文件）导出统计表（Excel）；--task 再导出一期的汇编（Word）和材料包，--all 导出全部。\n"+
			"机器人运行时请改在群里或私聊机器人发送“导出”。\n\n参数：\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "设置文件（默认：内置的 config.example.toml）")
	schedulePath := fs.String("schedule", "", "日程文件（默认：设置文件里的 schedule）")
	dataDir := fs.String("data", "", "停止运行的机器人的数据目录（默认：设置文件里的 data_dir）")
	dbFile := fs.String("db", "", "直接读这个数据库文件，如一份备份（代替 --data）")
	campaignName := fs.String("campaign", "", "活动（id 或名称）：有多个活动时指定导出哪一个（默认：正在进行的，或最近结束的）")
	taskName := fs.String("task", "", "任务（id、名称或关键词）：导出这一期的汇编（Word）和材料包；不写则只导出统计表")
	period := fs.Int("period", 0, "第几期（默认：当前这一期）")
	all := fs.Bool("all", false, "导出统计表、所有任务所有期次的汇编（Word）和全部材料包")
	out := fs.String("out", "", "把文件写到这个目录（默认：exports-当前时间）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := loadFiles(*configPath, *schedulePath)
	if err != nil {
		return err
	}
	path := *dbFile
	if path == "" {
		path = filepath.Join(f.dataDir(*dataDir), store.FileName)
	}
	db, err := store.OpenFile(path, store.Options{ReadOnly: true})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%s 正被运行中的机器人使用。请管理员在群里或私聊机器人发送“导出”（统计表）或“导出 任务 第N期”（汇编和材料），"+
			"机器人会把文件私聊发回；或者先停止机器人再运行 reportbot export", path)
	}
	if err != nil {
		return damagedAdvice(err, f.dataDir(*dataDir))
	}
	defer db.Close()
	now := timeNow()
	c, err := exportCampaign(f.schedules.Set(), *campaignName, now)
	if err != nil {
		return err
	}
	now = now.In(c.Location) // the folder's name and the files' dates as the office reads them
	src, err := unadopted(db, f.schedules.Set(), c)
	if err != nil {
		return err
	}
	e := &export.Exporter{Config: f.config, Schedule: c, Source: src, Now: func() time.Time { return now }}
	dir := *out
	if dir == "" {
		dir = "exports-" + now.Format("20060102-150405")
	}
	var paths []string
	switch {
	case *all:
		if paths, err = e.WriteAll(dir); err != nil {
			return err
		}
	case *taskName != "":
		t := c.Task(*taskName)
		if t == nil {
			return fmt.Errorf("没有找到任务 %q（可用 id、名称或关键词）", *taskName)
		}
		n := *period
		if n == 0 {
			n = bot.CurrentPeriod(t, now).N
		}
		if _, ok := t.Period(n); !ok {
			return fmt.Errorf("「%s」只有%d期", t.Name, len(t.Periods))
		}
		if paths, err = e.WriteFiles(dir, nil, 0); err != nil {
			return err
		}
		more, err := e.WriteFiles(dir, t, n)
		if err != nil {
			return err
		}
		paths = append(paths, more...)
	default:
		if paths, err = e.WriteFiles(dir, nil, 0); err != nil {
			return err
		}
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return nil
}

func restoreCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot restore [--config F] [--data DIR] 备份文件\n\n"+
			"停止机器人后运行：检查备份文件完好，把当前数据库（损坏的也一样）改名留在旁边（reportbot.db.before-restore-时间，只留最新的一份），换上备份。\n"+
			"备份文件损坏、不完整或是空的，就不恢复，说明原因，数据库不动（退出码 3）。\n"+
			"备份文件在数据目录的 backups/ 下（每日自动备份，管理员也可以发“备份”）。\n\n参数：\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "设置文件（默认：内置的 config.example.toml）")
	dataDir := fs.String("data", "", "数据目录（默认：设置文件里的 data_dir）")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	f, err := loadFiles(*configPath, "")
	if err != nil {
		return err
	}
	dir := f.dataDir(*dataDir)
	backup := fs.Arg(0)
	if _, err := os.Stat(backup); errors.Is(err, os.ErrNotExist) && !filepath.IsAbs(backup) {
		backup = filepath.Join(dir, store.BackupDir, backup)
	}
	kept, err := store.Restore(dir, backup, f.now())
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("机器人正在运行：先停止它（docker stop / Ctrl-C），再恢复备份")
	}
	if err != nil {
		return damagedAdvice(err, dir)
	}
	if kept != "" {
		fmt.Fprintf(stdout, "原来的数据库留在 %s\n", kept)
	}
	fmt.Fprintf(stdout, "已恢复 %s 到 %s，可以启动机器人了\n", backup, dir)
	return nil
}

// exportCampaign is the campaign an export is about: the one named, else the
// one in progress (or, between campaigns, the one that ended last).
func exportCampaign(set *schedules.Set, name string, now time.Time) (*schedules.Schedule, error) {
	var names []string
	for _, c := range set.All() {
		names = append(names, fmt.Sprintf("%s（%s）", c.Name, c.ID))
	}
	if name != "" {
		if c := set.Campaign(name); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("没有找到活动 %q：--campaign 写活动的 id 或名称（现有：%s）", name, strings.Join(names, "、"))
	}
	current := set.Current(now)
	if len(current) > 1 {
		return nil, fmt.Errorf("现在有%d个活动在进行，请用 --campaign 指定导出哪一个（现有：%s）", len(current), strings.Join(names, "、"))
	}
	return current[0], nil
}

// unadopted reads a database that a reportbot with campaigns has not opened
// yet (a schema-2 backup): its data is filed under bare task ids, and read so
// for the campaign that would adopt it (see adoptBare), without writing.
func unadopted(db *store.DB, set *schedules.Set, c *schedules.Schedule) (export.Source, error) {
	if c.ID == "" {
		return db, nil
	}
	bare, err := db.BareTasks()
	if err != nil || len(bare) == 0 {
		return db, err
	}
	owner, _, err := ownerOfBare(db)
	if err != nil || adoptionTarget(set, bare, owner) != c {
		return db, err
	}
	return bareSource{db, c.KeyPrefix()}, nil
}

// bareSource reads a campaign's tasks under their bare ids.
type bareSource struct {
	*store.DB
	prefix string
}

func (b bareSource) bare(task string) string { return strings.TrimPrefix(task, b.prefix) }

func (b bareSource) PeriodSubmissions(task string, n int) ([]bot.Submission, error) {
	return b.DB.PeriodSubmissions(b.bare(task), n)
}

func (b bareSource) UnitSubmissions(task string, n int, unit string) ([]bot.Submission, error) {
	return b.DB.UnitSubmissions(b.bare(task), n, unit)
}

func (b bareSource) Marks(task string, n int) (map[string]bot.Mark, error) {
	return b.DB.Marks(b.bare(task), n)
}

func (b bareSource) EachTally(task string, n int, fn func(unit []byte, t *bot.Tally)) error {
	return b.DB.EachTally(b.bare(task), n, fn)
}

func (b bareSource) UnitTally(task string, n int, unit string) (bot.Tally, error) {
	return b.DB.UnitTally(b.bare(task), n, unit)
}

func compactCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "用法：reportbot compact [--config F] [--data DIR]\n\n"+
			"停止机器人后运行：数据库文件只会变大，删掉的数据腾出的空间留在文件里，这个命令把它还给磁盘。\n"+
			"做法和“备份、再恢复这份备份”一样：先在 backups/ 里写一份压缩的备份，再换上它；原来的文件改名留在旁边\n"+
			"（reportbot.db.before-restore-时间），确认机器人正常后可以删掉。\n\n参数：\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "设置文件（默认：内置的 config.example.toml）")
	dataDir := fs.String("data", "", "数据目录（默认：设置文件里的 data_dir）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := loadFiles(*configPath, "")
	if err != nil {
		return err
	}
	dir := f.dataDir(*dataDir)
	live := filepath.Join(dir, store.FileName)
	st, err := os.Stat(live)
	if err != nil {
		return fmt.Errorf("数据目录 %s 里没有数据库 %s：用 --data 或设置文件的 data_dir 指定机器人的数据目录", dir, store.FileName)
	}
	backup := f.settings.Backup
	backup.check("")
	made, kept, err := store.Compact(dir, timeNow(), backup.Keep)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("机器人正在运行：先停止它（docker stop / Ctrl-C），再压缩")
	}
	if err != nil {
		return damagedAdvice(err, dir)
	}
	after, err := os.Stat(live)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已压缩 %s：%s → %s\n同时写了一份备份 %s\n原来的文件留在 %s，确认机器人正常后可以删掉\n",
		live, megabytes(st.Size()), megabytes(after.Size()), made, kept)
	return nil
}

func megabytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// exitDamaged is the exit code when a database file or a backup is refused as
// damaged: a service manager can tell it from a wrong setting (1) and not
// restart the bot over and over.
const exitDamaged = 3

// damagedAdvice turns a refused file into one message that says what to do:
// for the data directory's database, the newest backup that passes the same
// checks and the exact restore command; for a backup, that the database was
// not touched and which backup to take instead. Other errors pass unchanged.
func damagedAdvice(err error, dataDir string) error {
	var de *store.DamagedError
	if !errors.As(err, &de) {
		return err
	}
	live := filepath.Join(dataDir, store.FileName)
	isLive := filepath.Clean(de.Path) == filepath.Clean(live)
	var b strings.Builder
	if isLive {
		fmt.Fprintf(&b, "数据库 %s 损坏了，没有打开它：%s。", de.Path, de.Reason)
	} else {
		fmt.Fprintf(&b, "%s 不能用：%s。数据目录里的数据库没有改动。", de.Path, de.Reason)
	}
	good := store.NewestGoodBackup(filepath.Join(dataDir, store.BackupDir), filepath.Clean(de.Path))
	switch {
	case good != "" && isLive:
		fmt.Fprintf(&b, "\n最近一份完好的备份是 %s。先停止所有 reportbot，再运行：\n  reportbot restore --data %s %s\n"+
			"损坏的数据库会改名留在数据目录里；这份备份之后收到的材料，请各单位重新发送。", good, dataDir, good)
	case good != "":
		fmt.Fprintf(&b, "\n最近一份完好的备份是 %s：\n  reportbot restore --data %s %s", good, dataDir, good)
	case isLive:
		fmt.Fprintf(&b, "\n%s 里没有完好的备份。损坏的文件请留给技术人员抢救；要从空数据库重新开始，先把它改名移开"+
			"（mv %s %s.damaged）再启动。", filepath.Join(dataDir, store.BackupDir), de.Path, de.Path)
	}
	return &adviceError{msg: b.String(), err: err}
}

// adviceError is an error told in other words; errors.Is still finds the cause.
type adviceError struct {
	msg string
	err error
}

func (e *adviceError) Error() string { return e.msg }
func (e *adviceError) Unwrap() error { return e.err }
