package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/store"
)

func exportCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "设置文件（默认：内置的 config.example.toml）")
	schedulePath := fs.String("schedule", "", "日程文件（默认：设置文件里的 schedule）")
	dataDir := fs.String("data", "", "停止运行的机器人的数据目录（默认：设置文件里的 data_dir）")
	dbFile := fs.String("db", "", "直接读这个数据库文件，如一份备份（代替 --data）")
	taskName := fs.String("task", "", "任务（id、名称或关键词）：导出这一期的汇编（Word）和材料包；不写则只导出统计表")
	period := fs.Int("period", 0, "第几期（默认：当前这一期）")
	all := fs.Bool("all", false, "导出统计表和所有任务所有期次的材料包")
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
		return err
	}
	defer db.Close()
	now := timeNow()
	e := &export.Exporter{Config: f.config, Schedule: f.schedule, Source: db, Now: func() time.Time { return now }}
	dir := *out
	if dir == "" {
		dir = "exports-" + now.Format("20060102-150405")
	}
	var paths []string
	switch {
	case *all:
		if paths, err = e.WriteFiles(dir, nil, 0); err != nil {
			return err
		}
		p := filepath.Join(dir, export.ArchiveName(nil, 0))
		if err := export.WriteFile(p, func(w io.Writer) error { return e.Archive(w, nil, 0) }); err != nil {
			return err
		}
		paths = append(paths, p)
	case *taskName != "":
		t := f.schedule.Task(*taskName)
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
			"停止机器人后运行：检查备份文件完好，把当前数据库改名留在旁边（reportbot.db.before-restore-时间），换上备份。\n"+
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
	kept, err := store.Restore(dir, backup, timeNow())
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("机器人正在运行：先停止它（docker stop / Ctrl-C），再恢复备份")
	}
	if err != nil {
		return err
	}
	if kept != "" {
		fmt.Fprintf(stdout, "原来的数据库留在 %s\n", kept)
	}
	fmt.Fprintf(stdout, "已恢复 %s 到 %s，可以启动机器人了\n", backup, dir)
	return nil
}
