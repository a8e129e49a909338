package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/schedules"
	"reportbot/store"
	"reportbot/web"
)

// App is the running bot: the store, the domain and the scheduler wired
// together. The console opens one per /start and closes it on /stop; end-to-end
// tests reuse it the same way.
type App struct {
	Bot    *bot.Bot
	Store  *store.DB
	Runner *schedules.Runner
	// Outbox holds what the bot owes the chat until it is delivered.
	Outbox *bot.Outbox
	async  bool
	// prints makes the copies of newly stored photos (see printer).
	prints *printer

	// campaigns are the schedules in force, read without a lock by every
	// message; files are where they come from.
	campaigns atomic.Pointer[schedules.Set]
	files     *scheduleFiles
	canReload bool
	setClock  func(time.Time)
	log       zerolog.Logger

	backupDir string
	keep      int
	daily     int // minute of the day of the daily backup
	dailyOn   bool
	// retention is the [retention] section, for Maintain; dataDir holds exports/.
	retention retentionConfig
	dataDir   string
	// disk is the free space of the data directory, for the status page
	// and the admins' alert when it is nearly full.
	disk diskWatch
	// settled and settleWait hold Run's scheduled messages and receipts at
	// a start (see AppOptions).
	settled    <-chan struct{}
	settleWait time.Duration
}

// AppOptions are what an App is built from.
type AppOptions struct {
	Config *bot.Config
	// Files are the campaigns' schedule files.
	Files *scheduleFiles
	// Reload lets 重载 read Files again (run and the demo; tests that fix
	// the schedule leave it off).
	Reload  bool
	DataDir string
	// Transport delivers what the outbox owes.
	Transport bot.Deliverer
	// Hint is the transport's word on how to reach the bot (bot.Transport.Hint).
	Hint string
	// Backup is the [backup] section; zero: daily at 03:00, 7 kept.
	Backup backupConfig
	// Retention is the [retention] section; zero: the defaults.
	Retention retentionConfig
	Now       func() time.Time
	// SetClock moves a fake clock as Advance fires events; nil for the real one.
	SetClock func(time.Time)
	Logger   zerolog.Logger
	// Async delivers owed messages from Run's loop (a chat that can be down);
	// otherwise each is delivered as it is sent (the console, tests).
	Async bool
	// Trace follows the outbox's steps (the crash tests).
	Trace func(step string, it bot.OutboxItem)
	// NoSync opens the store without fsync: the console demo's data only.
	NoSync bool
	// DiskSpace reads the free space of the data directory's disk
	// (store.DiskSpace); nil: neither shown nor watched.
	DiskSpace func(dir string) (store.Space, error)
	// Settled, when set, is closed once the messages that waited at the chat
	// while the bot was down are handled (bot.Settler): until then Run
	// composes no scheduled message and no receipt, so that a reminder caught
	// up does not @ a unit whose photo is about to be stored. SettleWait, when
	// not zero, bounds that wait, and alone (Settled nil) is the whole wait:
	// a grace period for platforms that cannot tell.
	Settled    <-chan struct{}
	SettleWait time.Duration
}

// OpenApp opens the store in the data directory and starts the bot over it.
func OpenApp(ctx context.Context, o AppOptions) (*App, error) {
	o.Now = inZone(o.Now, o.Files.first().Location)
	db, err := store.Open(o.DataDir, store.Options{MaxBlob: o.Config.MaxMedia(), NoSync: o.NoSync})
	if err != nil {
		return nil, err
	}
	a := &App{Store: db, files: o.Files, canReload: o.Reload, setClock: o.SetClock, log: o.Logger, async: o.Async,
		prints: newPrinter(db, o.Logger), disk: diskWatch{dir: o.DataDir, space: o.DiskSpace}, settled: o.Settled, settleWait: o.SettleWait}
	a.campaigns.Store(o.Files.Set())
	o.Files.checkWith(func(c *schedules.Schedule) error { return checkBare(db, c) })
	if err := adoptBare(db, a.campaigns.Load(), o.Logger); err != nil {
		db.Close()
		return nil, err
	}
	a.Outbox = &bot.Outbox{Store: db, Transport: o.Transport, Now: o.Now, MaxAge: o.Config.Bot.OutboxMaxAge.Duration,
		Logger: o.Logger, Sync: !o.Async, Trace: o.Trace}
	reload := a.reload
	if !o.Reload {
		reload = nil
	}
	exportTo := func(ctx context.Context, c *schedules.Schedule, t *schedules.Task, n int) ([]string, error) {
		e := &export.Exporter{Config: o.Config, Schedule: c, Source: db, Now: o.Now, Prints: db,
			Warn: func(err error) { o.Logger.Warn().Err(err).Msg("keep a print copy") }}
		return e.WriteFiles(filepath.Join(o.DataDir, "exports", exportFolder(c, o.Now())), t, n)
	}
	backup := o.Backup
	backup.check("")
	a.backupDir, a.keep = filepath.Join(o.DataDir, store.BackupDir), backup.Keep
	a.daily, a.dailyOn = backup.daily()
	a.retention, a.dataDir = o.Retention, o.DataDir
	a.retention.check("")
	a.Bot, err = bot.New(bot.Options{Config: o.Config, Campaigns: a.campaigns.Load, Store: db, Chat: a.Outbox,
		Now: o.Now, Logger: o.Logger, Reload: reload, Export: exportTo, Hint: o.Hint, CheckTable: export.CheckTable,
		Backup:      func() (string, error) { return db.Backup(a.backupDir, o.Now(), a.keep) },
		ImageStored: a.prints.add, Archive: archiveTo(o.Config, db, o.DataDir, o.Now)})
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := a.Outbox.Recover(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.Bot.Reconcile(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.Runner = &schedules.Runner{Campaigns: a.campaigns.Load, Log: db, Fire: a.Bot.Fire, Now: o.Now, Logger: o.Logger}
	if err := a.Runner.Start(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.prints.start()
	return a, nil
}

// inZone is now read in loc: every time the bot writes for people (backup
// and export names, the daily backup's hour, the dashboard) is then in the
// campaign's zone, whatever zone the process has.
func inZone(now func() time.Time, loc *time.Location) func() time.Time {
	if loc == nil {
		return now
	}
	return func() time.Time { return now().In(loc) }
}

// exportFolder names an export's folder: the time, and the campaign once
// there can be several.
func exportFolder(c *schedules.Schedule, now time.Time) string {
	if c.Location != nil {
		now = now.In(c.Location)
	}
	name := now.Format("20060102-150405")
	if c.ID != "" {
		name += "-" + c.ID
	}
	return name
}

// reload reads every schedule file again for 重载: the good ones take effect,
// a bad one keeps its last good version and its errors are the answer.
func (a *App) reload() (string, error) {
	u, err := a.files.reload("")
	summary := a.swap(u)
	switch {
	case err != nil && len(u.set.All()) > 1:
		return "", fmt.Errorf("%w\n（其余的日程已重新载入）", err)
	case err != nil:
		return "", err
	}
	return summary, nil
}

// ScheduleChanged follows an edit of a schedule file: a good edit takes
// effect and the admins hear what comes next; a bad one leaves that campaign
// as it was (the others are not touched) and the admins get the errors with
// their lines. A removed file is waited for (editors remove and recreate).
func (a *App) ScheduleChanged(ctx context.Context, path string) {
	u, err := a.files.reload(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a.log.Warn().Err(err).Str("file", path).Msg("schedule file gone: the schedule in force stays")
		return
	case err != nil:
		a.log.Warn().Err(err).Str("file", path).Msg("schedule edit rejected: the schedule in force stays")
		if err := a.Bot.TellAdmins(ctx, "日程文件的改动有错误，机器人仍按原来的日程运行。请修改后保存：\n"+err.Error()); err != nil {
			a.log.Error().Err(err).Msg("tell the admins")
		}
		return
	}
	if len(u.changed) == 0 {
		return // saved without a change
	}
	if err := a.Bot.TellAdmins(ctx, "日程文件已更新，"+a.swap(u)); err != nil {
		a.log.Error().Err(err).Msg("tell the admins")
	}
}

// SaveSchedule is the dashboard's editor saving a campaign's file: the text
// is checked first and nothing is written unless it is right; then the file
// is replaced whole and put in force as after an edit, the admins told.
func (a *App) SaveSchedule(ctx context.Context, path, text string) (string, error) {
	if path == "" {
		return "", errors.New("这里用的是内置的示例日程，不能保存：用 --schedule 指定日程文件")
	}
	s, err := schedules.Parse(path, []byte(text))
	if err != nil {
		return "", err
	}
	// Refused now what the reload after the write would refuse: the file
	// must not be left changed behind a page that says nothing was saved.
	if err := a.files.accepts(path, s); err != nil {
		return "", err
	}
	if err := writeAtomic(path, []byte(text)); err != nil {
		// The admin reads this in the editor: the system's words go to the log.
		a.log.Error().Err(err).Str("file", path).Msg("save the schedule")
		return "", fmt.Errorf("日程文件 %s 无法写入，没有保存：请让管理服务器的人检查这个文件的权限和磁盘空间", path)
	}
	u, err := a.files.reload(path)
	if err != nil {
		return "", err
	}
	summary := a.swap(u)
	if err := a.Bot.TellAdmins(ctx, "日程在看板上修改并保存了，"+summary); err != nil {
		a.log.Error().Err(err).Msg("tell the admins")
	}
	return summary, nil
}

// writeAtomic replaces a file whole, as editors do, keeping its mode.
func writeAtomic(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Dashboard makes the web dashboard over this App, reached at url; status says
// how the chat platform is. The command 看板 then sends admins a sign-in link.
func (a *App) Dashboard(cfg *bot.Config, url string, status func() bot.TransportStatus) (*web.Server, error) {
	srv, err := web.New(web.Options{Config: cfg, Campaigns: a.campaigns.Load, Source: a.Store, Now: a.Bot.Now, Logger: a.log,
		URL: url,
		SaveSchedule: func(c *schedules.Schedule, text string) (string, error) {
			return a.SaveSchedule(context.Background(), a.files.editable(c), text)
		},
		Mark: a.Bot.MarkUnit,
		Status: func() web.Status {
			st := web.Status{Transport: status()}
			st.Pending = a.Outbox.Pending()
			st.StoreBytes = a.Store.Size()
			a.diskStatus(&st)
			if list, _ := store.Backups(a.backupDir); len(list) > 0 {
				st.LastBackup = filepath.Base(list[len(list)-1])
			}
			return st
		},
	})
	if err != nil {
		return nil, err
	}
	a.Bot.Dashboard = srv.SignInLink
	return srv, nil
}

// swap puts the campaigns read in force and says what they will send next.
// A campaign whose file just got an id takes its data along first.
func (a *App) swap(u reloaded) string {
	for _, c := range u.named {
		if err := adoptInto(a.Store, c, a.log); err != nil {
			a.log.Error().Err(err).Str("campaign", c.ID).Msg("file earlier data under the campaign's new id")
		}
	}
	a.campaigns.Store(u.set)
	a.Runner.Reschedule()
	var lines []string
	for _, c := range u.changed {
		a.log.Info().Str("file", c.Source).Str("campaign", c.ID).Int("tasks", len(c.Tasks)).Msg("schedule reloaded")
		lines = append(lines, fmt.Sprintf("「%s」日程已重新载入：%d项任务。", c.Name, len(c.Tasks)))
	}
	if len(lines) == 0 {
		lines = append(lines, "日程已重新载入，没有改动。")
	}
	if len(u.set.All()) == 1 {
		lines = []string{fmt.Sprintf("日程已重新载入：%d项任务。", len(u.set.All()[0].Tasks))}
	}
	now := a.Bot.Now()
	if next := u.set.Events(now, now.AddDate(0, 0, 14)); len(next) > 0 {
		lines = append(lines, "接下来：")
		for i, e := range next {
			if i == 3 {
				break
			}
			lines = append(lines, e.Describe())
		}
	}
	return strings.Join(lines, "\n")
}

// Deliver implements console.Runtime.
func (a *App) Deliver(ctx context.Context, m bot.Message) error {
	return a.Bot.Handle(ctx, m)
}

// Advance implements console.Runtime: owed receipts and scheduled events fire in
// time order, each with the clock at its moment.
func (a *App) Advance(ctx context.Context, to time.Time) error {
	for {
		next, ok := a.Runner.Next()
		if w, wok := a.Bot.NextWake(); wok && (!ok || w.Before(next)) {
			next, ok = w, true
		}
		if !ok || next.After(to) {
			break
		}
		a.setClock(next)
		if err := a.Bot.Wake(ctx, next); err != nil {
			return err
		}
		if err := a.Runner.RunDue(ctx, next); err != nil {
			return err
		}
	}
	a.setClock(to)
	return a.Runner.RunDue(ctx, to)
}

// nextBackup is the time of the next daily backup after t.
func (a *App) nextBackup(t time.Time) (time.Time, bool) {
	if !a.dailyOn {
		return time.Time{}, false
	}
	y, m, d := t.Date()
	next := time.Date(y, m, d, a.daily/60, a.daily%60, 0, 0, t.Location())
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next, true
}

// Run sends scheduled messages and owed receipts as their time comes, and
// backs the database up daily, until ctx ends; then it sends what is still
// owed. It is the real-time counterpart of Advance.
//
// The outbox's loop is joined before Run returns, so the store can close after.
func (a *App) Run(ctx context.Context) error {
	if a.async {
		done := make(chan struct{})
		go func() { defer close(done); a.Outbox.Run(ctx) }()
		defer func() { <-done }()
	}
	backupAt, _ := a.nextBackup(a.Bot.Now())
	maintainAt, _ := a.nextMaintenance(a.Bot.Now())
	var diskAt time.Time
	// Held until the chat's backlog is in (see AppOptions.Settled); a nil
	// channel never fires.
	holding := a.settled != nil || a.settleWait > 0
	settled := a.settled
	var grace <-chan time.Time
	if a.settleWait > 0 {
		t := time.NewTimer(a.settleWait)
		defer t.Stop()
		grace = t.C
	}
	for {
		now := a.Bot.Now()
		if !now.Before(diskAt) {
			a.checkDisk(ctx)
			diskAt = now.Add(diskEvery)
		}
		if !holding {
			if err := a.Bot.Wake(ctx, now); err != nil {
				a.log.Error().Err(err).Msg("send receipts")
			}
			if err := a.Runner.RunDue(ctx, now); err != nil {
				a.log.Error().Err(err).Msg("scheduler")
			}
		}
		if !backupAt.IsZero() && !now.Before(backupAt) {
			if path, err := a.Store.Backup(a.backupDir, now, a.keep); err != nil {
				a.log.Error().Err(err).Msg("daily backup")
			} else {
				a.log.Info().Str("file", path).Msg("daily backup")
			}
			backupAt, _ = a.nextBackup(now)
		}
		if !maintainAt.IsZero() && !now.Before(maintainAt) {
			if _, err := a.Maintain(now); err != nil {
				a.log.Error().Err(err).Msg("daily maintenance")
			}
			maintainAt, _ = a.nextMaintenance(now)
		}
		// Look again at least hourly: the wall clock can jump (NTP, suspend).
		wait := time.Hour
		if a.disk.space != nil {
			wait = min(wait, max(diskAt.Sub(now), 0))
		}
		if !backupAt.IsZero() && backupAt.Sub(now) < wait {
			wait = max(backupAt.Sub(now), 0)
		}
		if !maintainAt.IsZero() && maintainAt.Sub(now) < wait {
			wait = max(maintainAt.Sub(now), 0)
		}
		for _, next := range []func() (time.Time, bool){a.Runner.Next, a.Bot.NextWake} {
			if t, ok := next(); ok && t.Sub(now) < wait && !holding {
				wait = max(t.Sub(now), 0)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return a.Bot.Flush(context.WithoutCancel(ctx))
		case <-a.Bot.Wakeups():
		case <-a.Runner.Changed():
		case <-timer.C:
		case <-settled:
			settled, grace = nil, nil
			a.release(ctx, "backlog handled")
			holding = false
		case <-grace:
			settled, grace = nil, nil
			a.release(ctx, "grace period over")
			holding = false
		}
		timer.Stop()
	}
}

// release ends the hold at a start: the events missed are planned again
// from the stored cursor, now, so that those the wait made stale (a nudge
// past its deadline after a long wait for a scan) are skipped, not sent.
func (a *App) release(ctx context.Context, why string) {
	a.log.Info().Str("why", why).Msg("start: scheduled messages and receipts go on")
	if err := a.Runner.Start(ctx); err != nil {
		a.log.Error().Err(err).Msg("plan the missed scheduled messages again")
	}
}

// Flush implements console.Runtime.
func (a *App) Flush(ctx context.Context) error { return a.Bot.Flush(ctx) }

// Close queues the receipts still owed (a chat that is down gets them at the
// next start), stops making print copies and closes the store.
func (a *App) Close() error {
	err := a.Bot.Flush(context.Background())
	a.prints.close()
	return errors.Join(err, a.Store.Close())
}
