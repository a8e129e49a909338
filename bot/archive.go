package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"reportbot/schedules"
)

// Archived is what archiving a campaign did.
type Archived struct {
	// Path is the ZIP written; "" when there was nothing to archive. With an
	// error, a Path says the ZIP is complete and the removal stopped halfway.
	Path string
	// Submissions and Media count what left the store; Bytes is the media's size.
	Submissions, Media int
	Bytes              int64
}

// archiveWait is how long a 归档 waits for its 确认归档: an answer much
// later is more likely a stray paste than a decision.
const archiveWait = 10 * time.Minute

// archiveRequests are the admins' 归档 requests waiting for confirmation:
// the campaign and until when, by the admin's verified identity.
type archiveRequests struct {
	mu  sync.Mutex
	ask map[string]archiveRequest
}

type archiveRequest struct {
	campaign *schedules.Schedule
	until    time.Time
}

func (r *archiveRequests) put(admin string, c *schedules.Schedule, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ask == nil {
		r.ask = map[string]archiveRequest{}
	}
	r.ask[admin] = archiveRequest{c, until}
}

// take removes and reports the admin's request for c if it is still valid at now.
func (r *archiveRequests) take(admin string, c *schedules.Schedule, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.ask[admin]
	if !ok || q.campaign.ID != c.ID || q.campaign.Name != c.Name {
		return false
	}
	delete(r.ask, admin)
	return !now.After(q.until)
}

// checkCampaignArg accepts the name (or id) of a campaign.
func checkCampaignArg(word string) func(b *Bot, args string) (string, bool) {
	return func(b *Bot, args string) (string, bool) {
		var names []string
		for _, c := range b.Campaigns().All() {
			names = append(names, c.Name)
		}
		usage := fmt.Sprintf("%s的写法：%s 活动名称，如：%s %s", word, word, word, names[0])
		return usage, b.Campaigns().Campaign(strings.Trim(args, "「」\"' ")) != nil
	}
}

// finished says why campaign c cannot be archived at now, or "": its
// reports must all be in, the last late one included.
func finished(c *schedules.Schedule, now time.Time) string {
	if c.TakesReports(now) || !now.After(c.End) {
		return fmt.Sprintf("「%s」还在进行（到%s结束），还会收到材料，结束后才能归档。", c.Name, c.End.Format("1月2日"))
	}
	return ""
}

// archive is 归档: it asks for confirmation, since the materials then leave
// the database for a ZIP.
func (b *Bot) archive(ctx context.Context, m Message, args string) error {
	c := b.Campaigns().Campaign(strings.Trim(args, "「」\"' "))
	if b.Archive == nil {
		return b.reply(ctx, m, "这里不能归档。")
	}
	now := b.Now()
	if why := finished(c, now); why != "" {
		return b.reply(ctx, m, why)
	}
	b.asked.put(m.Sender.Verified, c, now.Add(archiveWait))
	return b.reply(ctx, m, fmt.Sprintf("归档会把「%s」的全部材料（文字、照片、文件）打包成一个 ZIP 存到数据目录的 archives/ 下，"+
		"然后从数据库中移除，数据库就不再为它变大；各单位的报送情况（进度、统计）仍可查询。\n"+
		"确认请在%d分钟内发：确认归档 %s", c.Name, int(archiveWait.Minutes()), c.Name))
}

// confirmArchive is 确认归档: the archive is written and read back before
// anything leaves the store.
func (b *Bot) confirmArchive(ctx context.Context, m Message, args string) error {
	c := b.Campaigns().Campaign(strings.Trim(args, "「」\"' "))
	now := b.Now()
	if b.Archive == nil {
		return b.reply(ctx, m, "这里不能归档。")
	}
	if !b.asked.take(m.Sender.Verified, c, now) {
		return b.reply(ctx, m, fmt.Sprintf("请先发“归档 %s”，看过说明后%d分钟内再发“确认归档 %s”。", c.Name, int(archiveWait.Minutes()), c.Name))
	}
	if why := finished(c, now); why != "" {
		return b.reply(ctx, m, why)
	}
	a, err := b.Archive(ctx, c)
	if err != nil {
		b.Logger.Error().Err(err).Str("campaign", c.ID).Msg("archive")
		if a.Path != "" {
			return b.reply(ctx, m, fmt.Sprintf("归档的文件已写好（%s），但从数据库移除材料时出错：%v\n"+
				"请检查数据目录所在磁盘，再发一次“归档 %s”移除剩下的材料。", a.Path, err, c.Name))
		}
		return b.reply(ctx, m, "归档失败，数据库里的材料没有移除："+err.Error())
	}
	b.Logger.Info().Str("by", m.Sender.Verified).Str("campaign", c.ID).Str("file", a.Path).
		Int("submissions", a.Submissions).Int("media", a.Media).Int64("bytes", a.Bytes).Msg("archive")
	if a.Path == "" {
		return b.reply(ctx, m, fmt.Sprintf("「%s」在数据库里没有材料，不用归档（可能已经归档过）。", c.Name))
	}
	text := fmt.Sprintf("「%s」已归档：%d份材料（其中%d个文件，共%.1f MB）存在 %s，已从数据库中移除。"+
		"进度、统计仍可查询；要看材料请打开这个 ZIP。", c.Name, a.Submissions, a.Media, float64(a.Bytes)/(1<<20), a.Path)
	if a.Media > 0 {
		// An admin who archived to free the disk would otherwise look for space that bbolt keeps.
		text += "\n数据库文件不会因此变小：腾出的空间留给以后的材料；要还给磁盘，停止机器人后运行 reportbot compact（见说明“压缩数据库文件”）。"
	}
	return b.reply(ctx, m, text)
}
