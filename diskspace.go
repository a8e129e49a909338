package main

import (
	"context"
	"fmt"
	"time"

	"reportbot/bot"
	"reportbot/store"
	"reportbot/web"
)

// The disk alert's hysteresis: the admins hear once when the data
// directory's disk is diskFullAt percent full, and again only after it went
// below diskClearAt and then filled up again. Between the two nothing is said,
// so a disk that hovers at 90 % does not alert at every look.
const (
	diskFullAt  = 90
	diskClearAt = 85
	// diskEvery is how often Run looks at the disk: a photo burst fills a
	// few hundred MB in minutes, a log file over days.
	diskEvery = 10 * time.Minute
)

// diskWatch looks at the free space of the data directory's filesystem.
type diskWatch struct {
	dir string
	// space reads the filesystem (store.DiskSpace); nil: nothing is looked at.
	space func(dir string) (store.Space, error)
	full  bot.Trouble
}

// checkDisk tells the admins, once, when the disk is nearly full.
func (a *App) checkDisk(ctx context.Context) {
	d := &a.disk
	if d.space == nil {
		return
	}
	s, err := d.space(d.dir)
	if err != nil {
		a.log.Warn().Err(err).Msg("read the disk's free space")
		return
	}
	used := s.UsedPercent()
	now := a.Bot.Now()
	switch {
	case used >= diskFullAt && d.full.Fail(now):
		a.log.Warn().Float64("used_percent", used).Uint64("free", s.Free).Msg("disk nearly full: telling the admins")
		text := fmt.Sprintf("【reportbot】数据目录所在的磁盘快满了：已用%.0f%%，只剩%s（数据库%s）。磁盘满了以后，成员发的照片和文件就存不进去。"+
			"请删掉磁盘上不需要的文件，或换更大的磁盘。降到%d%%以下之后再超过%d%%，会再提醒。",
			used, diskSize(s.Free), diskSize(uint64(a.Store.Size())), diskClearAt, diskFullAt)
		if err := a.Bot.TellAdmins(ctx, text); err != nil {
			d.full.Untold()
			a.log.Error().Err(err).Msg("tell the admins the disk is nearly full: will try again at the next look")
		}
	case used >= diskFullAt:
		a.log.Debug().Float64("used_percent", used).Msg("disk still nearly full: the admins were told")
	case used < diskClearAt && d.full.OK(now):
		a.log.Info().Float64("used_percent", used).Msg("disk no longer nearly full")
	}
}

// diskStatus is the disk's part of the status page.
func (a *App) diskStatus(st *web.Status) {
	if a.disk.space == nil {
		return
	}
	s, err := a.disk.space(a.disk.dir)
	if err != nil {
		return
	}
	st.DiskKnown, st.DiskFree, st.DiskUsedPercent = true, int64(s.Free), s.UsedPercent()
	st.DiskNearlyFull = st.DiskUsedPercent >= diskFullAt
}

func diskSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}
