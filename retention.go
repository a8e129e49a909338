package main

import (
	"fmt"
	"path/filepath"
	"time"

	"reportbot/export"
)

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

// Maintain is the daily maintenance: it prunes the bookkeeping nothing can
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
func (a *App) Maintain(now time.Time) error {
	margin := time.Duration(a.retention.KeepDays) * 24 * time.Hour
	since := a.campaigns.Load().RetainSince(now, margin)
	sentBefore := since
	cursor, err := a.Store.Cursor()
	if err != nil {
		return fmt.Errorf("maintenance: %w", err)
	}
	if c := cursor.Add(-margin); c.Before(sentBefore) {
		sentBefore = c
	}
	p, err := a.Store.Prune(since, sentBefore)
	if err != nil {
		return fmt.Errorf("maintenance: %w", err)
	}
	removed, err := export.RemoveOld(filepath.Join(a.dataDir, "exports"), now.AddDate(0, 0, -a.retention.ExportDays))
	a.log.Info().Int("seen_pruned", p.Seen).Int("sent_pruned", p.Sent).Int("exports_removed", len(removed)).
		Time("seen_before", since).Time("sent_before", sentBefore).Int64("db_bytes", a.Store.Size()).Msg("daily maintenance")
	if err != nil {
		return fmt.Errorf("maintenance: %w", err)
	}
	return nil
}
