package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"reportbot/bot"
	"reportbot/export"
	"reportbot/schedules"
	"reportbot/store"
)

// ArchiveDir is where 归档 puts its ZIPs inside the data directory.
const ArchiveDir = "archives"

// retentionConfig is the [retention] section: how long the bot's own
// bookkeeping and the files of 导出 are kept. Materials (texts, photos,
// files) are never deleted by it: they leave the database only by 归档.
type retentionConfig struct {
	// KeepDays is the margin kept beyond what the open campaigns need of the
	// sent-log and the ids of messages seen (schedules.Set.RetainSince).
	KeepDays int `toml:"keep_days"`
	// ExportDays is how long the files in exports/ are kept.
	ExportDays int `toml:"exports_days"`
	// DailyAt is the time of the daily maintenance ("04:00"); "none" turns it off.
	DailyAt string `toml:"daily_at"`
}

func (c *retentionConfig) check(name string) []string {
	if c.KeepDays == 0 {
		c.KeepDays = 30
	}
	if c.ExportDays == 0 {
		c.ExportDays = 30
	}
	if c.DailyAt == "" {
		c.DailyAt = "04:00"
	}
	var p []string
	if c.KeepDays < 7 {
		// The platforms hand messages over again for days after an outage.
		p = append(p, fmt.Sprintf("%s: [retention] keep_days = %d：至少写 7（天）", name, c.KeepDays))
	}
	if c.ExportDays < 1 {
		p = append(p, fmt.Sprintf("%s: [retention] exports_days = %d：至少写 1（天）", name, c.ExportDays))
	}
	daily := backupConfig{DailyAt: c.DailyAt}
	if _, ok := daily.daily(); !ok && c.DailyAt != "none" {
		p = append(p, fmt.Sprintf("%s: [retention] daily_at = %q：写成 \"04:00\" 这样的时间，不要每日整理写 \"none\"", name, c.DailyAt))
	}
	return p
}

// daily is the minute of the day of the maintenance; ok is false when off.
func (c *retentionConfig) daily() (minute int, ok bool) {
	b := backupConfig{DailyAt: c.DailyAt}
	return b.daily()
}

// nextMaintenance is the time of the next daily maintenance after t.
func (a *App) nextMaintenance(t time.Time) (time.Time, bool) {
	minute, ok := a.retention.daily()
	if !ok {
		return time.Time{}, false
	}
	y, m, d := t.Date()
	next := time.Date(y, m, d, minute/60, minute%60, 0, 0, t.Location())
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next, true
}

// Maintain is the daily maintenance, and says what it pruned: it prunes the bookkeeping nothing can
// ask about any more and deletes old exports. What may go:
//   - an id of a message first seen before the open campaigns began (less
//     keep_days): the platforms hand a message over again within hours or
//     days of an outage, not months; and a report's own id stays with the
//     report (msg_ids), which dedupes its replays whatever its age;
//   - a sent-log entry recorded before that too, and before the scheduler's
//     cursor less keep_days: the scheduler asks the sent-log only about
//     events after its cursor, so an older entry is never read again; the
//     margin covers a wall clock set back by days (the cursor is then moved
//     to now and events after it would be asked about again).
//
// Each step runs in transactions of a few hundred keys, so the members'
// reports wait a millisecond at most behind it.
func (a *App) Maintain(now time.Time) (store.Pruned, error) {
	margin := time.Duration(a.retention.KeepDays) * 24 * time.Hour
	since := a.campaigns.Load().RetainSince(now, margin)
	sentBefore := since
	cursor, err := a.Store.Cursor()
	if err != nil {
		return store.Pruned{}, fmt.Errorf("maintenance: %w", err)
	}
	if c := cursor.Add(-margin); c.Before(sentBefore) {
		sentBefore = c
	}
	p, err := a.Store.Prune(since, sentBefore)
	if err != nil {
		return p, fmt.Errorf("maintenance: %w", err)
	}
	removed, err := export.RemoveOld(filepath.Join(a.dataDir, "exports"), now.AddDate(0, 0, -a.retention.ExportDays))
	a.log.Info().Int("seen_pruned", p.Seen).Int("sent_pruned", p.Sent).Int("exports_removed", len(removed)).
		Time("seen_before", since).Time("sent_before", sentBefore).Int64("db_bytes", a.Store.Size()).Msg("daily maintenance")
	if err != nil {
		return p, fmt.Errorf("maintenance: %w", err)
	}
	return p, nil
}

// archiveTo makes the 归档 of a finished campaign: its whole archive (every
// task and period, the 汇编 and the workbook, as 导出 makes it) written to
// archives/ in the data directory and read back, and only then its
// submissions and the media no other campaign uses removed from the store.
func archiveTo(cfg *bot.Config, db *store.DB, dataDir string, now func() time.Time) func(context.Context, *schedules.Schedule) (bot.Archived, error) {
	return func(_ context.Context, c *schedules.Schedule) (bot.Archived, error) {
		var keys []string
		total := 0
		for _, t := range c.Tasks {
			keys = append(keys, t.Key)
			for _, p := range t.Periods {
				subs, err := db.PeriodSubmissions(t.Key, p.N)
				if err != nil {
					return bot.Archived{}, err
				}
				total += len(subs)
			}
		}
		if total == 0 {
			return bot.Archived{}, nil
		}
		at := now()
		name := c.ID
		if name == "" {
			name = "campaign"
		}
		path := filepath.Join(dataDir, ArchiveDir, name+"-"+at.In(c.Location).Format("20060102-150405")+".zip")
		e := &export.Exporter{Config: cfg, Schedule: c, Source: db, Now: now, Prints: db}
		if _, err := e.WriteArchiveFile(path); err != nil {
			return bot.Archived{}, err
		}
		r, err := db.RemoveTasks(keys)
		if err != nil {
			return bot.Archived{Path: path}, fmt.Errorf("remove the archived materials: %w", err)
		}
		return bot.Archived{Path: path, Submissions: r.Submissions, Media: r.Media, Bytes: r.Bytes}, nil
	}
}
