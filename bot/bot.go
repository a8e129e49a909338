package bot

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // to recognise the photos members send
	_ "image/jpeg"
	_ "image/png"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"reportbot/schedules"
)

// Options are what a Bot is built from.
type Options struct {
	Config *Config
	// Campaigns returns the campaigns in force, one per schedule file; they
	// change when a file is reloaded.
	Campaigns func() *schedules.Set
	Store     Store
	Chat      Chat
	Now       func() time.Time
	Logger    zerolog.Logger
	// Reload re-reads the schedule file for the admin command 重载 and says what
	// is now in force; nil when the bot cannot reload.
	Reload func() (string, error)
	// Export writes the files of the admin command 导出 for a campaign and
	// returns their paths: with no task the statistics workbook, with one the
	// period's compiled report and materials. Nil when the bot cannot export.
	Export func(ctx context.Context, c *schedules.Schedule, t *schedules.Task, period int) ([]string, error)
	// Backup copies the database for the admin command 备份 and returns the file.
	Backup func() (string, error)
	// Archive packs a finished campaign's materials into a ZIP in the data
	// directory and removes them from the store (the admin command 归档, once
	// confirmed); nil when the bot cannot archive.
	Archive func(ctx context.Context, c *schedules.Schedule) (Archived, error)
	// Dashboard makes a personal sign-in link to the web dashboard for the admin
	// with this verified identity (Member.Verified; the command 看板); nil when there is no dashboard.
	Dashboard func(admin string) (string, error)
	// CheckTable compares a unit's .xlsx with its task's template (Task.Template)
	// and says what differs, "" when it matches; nil checks nothing. The table
	// is kept either way: the receipt says what to fix before the deadline.
	CheckTable func(t *schedules.Task, data []byte) string
	// Hint tells members how to reach the bot on this platform (Transport.Hint);
	// reminders and the help end with it. "" adds nothing.
	Hint string
	// ImageStored hears each image once it is stored and its receipt owed,
	// so that its print-size copy is ready before the 汇编 or the dashboard
	// asks. It runs on the message's path and must return at once, handing
	// the work elsewhere: the receipt must never wait for a photo to be
	// scaled. Nil: nothing is made ahead.
	ImageStored func(sub Submission)
}

func (o *Options) validate() error {
	switch {
	case o.Config == nil:
		return errors.New("bot: no Config")
	case o.Campaigns == nil:
		return errors.New("bot: no Campaigns")
	case o.Store == nil:
		return errors.New("bot: no Store")
	case o.Chat == nil:
		return errors.New("bot: no Chat")
	case o.Now == nil:
		return errors.New("bot: no Now")
	}
	return nil
}

// Bot handles the group's messages and the schedule's events.
type Bot struct {
	Options

	mu sync.Mutex
	// receipts owed, by unit/task/period: a receipt waits for the burst of
	// photos after a text to end.
	receipts map[periodKey]owedReceipt
	wakeups  chan struct{}
	// asked are the 归档 requests waiting for their 确认归档.
	asked archiveRequests
	// store is the trouble of writes failing (a full or read-only disk):
	// the admins are told once when it starts and once when it is over.
	store *Trouble
	// absent are the configured members the group's member list lacks (see
	// Roster), nil while no list came; absentTold is the set the admins
	// were last told of.
	absent     map[string]bool
	absentTold string
}

type owedReceipt struct {
	at time.Time
	// notes say what is wrong with what came (a table that differs from its
	// template), for the receipt to tell.
	notes []string
	// to is the member who reported privately, zero for the group.
	to Member
	// by is the member whose material made the receipt owed: a transport
	// that can notify people addresses the receipt to them.
	by Member
}

type periodKey struct {
	Unit, Task string
	Period     int
}

// New builds a Bot.
func New(o Options) (*Bot, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &Bot{Options: o, receipts: map[periodKey]owedReceipt{}, wakeups: make(chan struct{}, 1),
		store: &Trouble{Quiet: AlertQuiet}}, nil
}

// Handle processes one incoming message. Errors are the store's or the chat's;
// anything wrong with the message itself is answered in the chat.
func (b *Bot) Handle(ctx context.Context, m Message) error {
	log := b.Logger.With().Str("msg_id", m.ID).Str("from", m.Sender.Name).Str("kind", string(m.Kind)).Logger()
	// A message is recorded as seen together with its effect: a report in the
	// transaction that stores it, a command or a recall before it is answered.
	// Chatter is not recorded: a replay of it is ignored again anyway.
	if m.ID != "" {
		seen, err := b.Store.Seen(m.ID)
		if err != nil {
			log.Warn().Err(err).Msg("read message ids")
		} else if seen {
			log.Info().Msg("message seen before: ignored")
			return nil
		}
	}
	if m.Recalls != "" {
		if !b.firstSeen(m.ID, log) {
			return nil
		}
		return b.withdraw(ctx, m)
	}
	var unit *Unit
	if m.Kind == schedules.Text {
		text := b.stripMention(&m)
		if c, ok := ParseCommand(text); ok && c.Name != "" {
			// Possibly a command: its id is recorded before it acts, or, for a
			// question, with its answer.
			if commandNamed(c.Name).query && m.ID != "" {
				m.owed = &owedMark{id: m.ID}
			} else if !b.firstSeen(m.ID, log) {
				return nil
			}
		}
		if handled, err := b.command(ctx, m, text); handled || err != nil {
			if err == nil && m.owed != nil && !m.owed.done {
				b.firstSeen(m.ID, log) // answered with nothing: recorded as any command is
			}
			return err
		}
		m.owed = nil // not a command after all: a report is marked as it is stored
		u, v, err := b.judge(m, text)
		if err != nil {
			return err
		}
		unit = u
		log.Debug().Bool("counts", v.Counts).Str("why", v.Why).Msg("report rule")
		if !v.Counts {
			if m.ToBot || m.Private {
				return b.reply(ctx, m, b.withHint(helpText(b.Config.Bot.Name, b.isAdmin(m))))
			}
			return nil
		}
		m.Text = text
	} else {
		u, err := b.UnitOf(m.Sender)
		if err != nil {
			return err
		}
		unit = u
	}
	// A report sent privately counts as in the group and is receipted privately.
	return b.submit(ctx, m, unit, log)
}

// judge applies the report rule to a text of m (see Judge). A member the
// bot cannot place is judged as a unit member would be, but only a text that
// names a task is taken from them (to keep until they bind): anything else
// from them is most likely a coordinator's word.
func (b *Bot) judge(m Message, text string) (*Unit, Verdict, error) {
	unit, err := b.UnitOf(m.Sender)
	if err != nil {
		return nil, Verdict{}, err
	}
	now := b.Now()
	f := Facts{Coordinator: b.isAdmin(m), Addressed: m.ToBot || m.Private, Answers: answersReminder(m.Quote), Unit: unit}
	if unit != nil {
		last, err := b.Store.LastSubmission(m.Sender.Name)
		if err != nil {
			return nil, Verdict{}, err
		}
		f.Follows = last != nil && last.Unit == unit.Name && !last.Withdrawn &&
			now.Sub(last.At) <= time.Duration(b.Config.Bot.FollowMinutes)*time.Minute
	}
	v := Judge(b.Config, schedules.Tasks(b.Campaigns().Open(now)), text, f)
	if unit == nil && v.Counts && v.Task == nil {
		v.Counts, v.Why = false, "发消息的人还不属于任何单位，消息里也没有提到任务：多半是布置工作"
	}
	return unit, v, nil
}

// firstSeen records a message id; false when another handling recorded it
// first. Storage trouble does not stop the answer: deduplication is skipped then.
func (b *Bot) firstSeen(id string, log zerolog.Logger) bool {
	if id == "" {
		return true
	}
	first, err := b.Store.FirstSeen(id, b.Now())
	if err != nil {
		log.Warn().Err(err).Msg("record message id")
		return true
	}
	return first
}

// stripMention removes "@botname" from a text and notes that it was addressed to the bot.
func (b *Bot) stripMention(m *Message) string {
	text := strings.TrimSpace(m.Text)
	at := "@" + b.Config.Bot.Name
	if strings.Contains(text, at) {
		m.ToBot = true
		text = strings.TrimSpace(strings.ReplaceAll(text, at, ""))
	}
	return strings.Trim(text, "\u2005\u00a0 ")
}

// UnitOf resolves the unit a member reports for: their own binding, the config's
// member lists, or a display name that contains exactly one unit's name (which
// is then remembered).
func (b *Bot) UnitOf(who Member) (*Unit, error) {
	name, err := b.Store.Binding(who)
	if err != nil {
		return nil, fmt.Errorf("read binding of %s: %w", who, err)
	}
	if u := b.Config.Unit(name); u != nil {
		return u, nil
	}
	if u := b.Config.configuredUnit(who); u != nil {
		return u, nil
	}
	if u := b.Config.unitOfDisplayName(who.Name); u != nil {
		if err := b.Store.Bind(who, u.Name); err != nil {
			return nil, fmt.Errorf("bind %s: %w", who, err)
		}
		return u, nil
	}
	return nil, nil
}

// submit stores a report of the member's unit (nil: one the bot cannot place yet).
func (b *Bot) submit(ctx context.Context, m Message, unit *Unit, log zerolog.Logger) (err error) {
	now := b.Now()
	if unit == nil {
		return b.keepUnplaced(ctx, m, log)
	}
	task, period, late := b.attribute(unit.Name, m, now)
	if task == nil {
		return b.reply(ctx, m, "现在没有需要报送的任务，材料没有记入。发“任务”查看报送安排。")
	}
	sub := &Submission{MsgID: m.ID, Unit: unit.Name, Task: task.Key, Period: period, Member: m.Sender.Name,
		At: now, Kind: m.Kind, Text: m.Text, FileName: m.FileName, Late: late}
	var media []byte
	if m.Kind != schedules.Text {
		media, err = b.readMedia(ctx, m, log)
		if err != nil || media == nil {
			return err
		}
		if m.Kind == schedules.Image && !isPicture(media) {
			log.Warn().Int("bytes", len(media)).Msg("image that is no picture")
			return b.reply(ctx, m, fmt.Sprintf("@%s 这张图片打不开（文件已损坏或格式无法识别），没有记入，请重新拍照或重发。", m.Sender.Name), m.Sender)
		}
		sum := sha256.Sum256(media)
		sub.Blob, sub.Size = hex.EncodeToString(sum[:]), int64(len(media))
		if m.Kind == schedules.File && strings.EqualFold(filepath.Ext(m.FileName), ".docx") {
			sub.Images = docxImages(media)
		}
	}
	var notes []string
	if m.Kind == schedules.File && task.Needs(schedules.Sheet) {
		switch {
		case oldSheet(m.FileName):
			// Asked at once, instead of a receipt that counts it and a merge that refuses it.
			defer func() {
				if err == nil {
					err = b.reply(ctx, m, fmt.Sprintf("@%s 收到《%s》，但统计表要 .xlsx 格式才能汇总，这份没有算作统计表。请用 Excel 或 WPS 打开后“另存为” .xlsx 再发一次。",
						m.Sender.Name, m.FileName), m.Sender)
				}
			}()
		case isSheet(m.FileName) && task.Template != "" && b.CheckTable != nil:
			if diff := b.CheckTable(task, media); diff != "" {
				notes = append(notes, fmt.Sprintf("《%s》与模板不一致：%s。表已存下，请改好后在截止前重发", m.FileName, diff))
			}
		}
	}
	dup, err := b.Store.AddSubmission(sub, media)
	b.storeHealth(ctx, err)
	if err != nil {
		log.Error().Err(err).Msg("store submission")
		return b.reply(ctx, m, fmt.Sprintf("@%s 暂存失败，请稍后重发。", m.Sender.Name), m.Sender)
	}
	if dup {
		log.Info().Msg("duplicate message ignored")
		return nil
	}
	log.Info().Str("unit", unit.Name).Str("task", task.Key).Int("period", period).Bool("late", late).Msg("submission stored")
	var to Member
	if m.Private {
		to = m.Sender
	}
	if m.Kind == schedules.File && task.Needs(schedules.Sheet) && oldSheet(m.FileName) {
		return nil // answered at once (above)
	}
	k := periodKey{unit.Name, task.Key, period}
	b.mu.Lock()
	notes = append(b.receipts[k].notes, notes...)
	b.receipts[k] = owedReceipt{at: now.Add(b.Config.Bot.ReceiptDelay.Duration), to: to, by: m.Sender, notes: notes}
	b.mu.Unlock()
	select {
	case b.wakeups <- struct{}{}:
	default:
	}
	if sub.Kind == schedules.Image && b.ImageStored != nil {
		b.ImageStored(*sub)
	}
	return nil
}

// Reconcile runs at start: a receipt that was still waiting out its delay
// when the bot stopped is owed again. For the periods that still take reports,
// a unit whose material amounts to more than its last receipt said gets one.
func (b *Bot) Reconcile(ctx context.Context) error {
	now := b.Now()
	for _, t := range schedules.Tasks(b.Campaigns().All()) {
		for _, p := range t.Periods {
			if p.Opens.After(now) || now.After(p.LateUntil.Add(24*time.Hour)) {
				continue
			}
			reports, err := b.periodReports(t, p.N)
			if err != nil {
				return err
			}
			for _, r := range reports {
				told, err := b.Store.Receipt(t.Key, p.N, r.Unit)
				if err != nil {
					return err
				}
				if r.receiptLevel() > told {
					b.mu.Lock()
					b.receipts[periodKey{r.Unit, t.Key, p.N}] = owedReceipt{at: now.Add(b.Config.Bot.ReceiptDelay.Duration)}
					b.mu.Unlock()
				}
			}
		}
	}
	return nil
}

// storeHealth tells the admins when writes start failing and when they have
// worked again for AlertQuiet: a small text that slips onto a full disk
// between two failed photos is no recovery. Failures in between are logged.
func (b *Bot) storeHealth(ctx context.Context, err error) {
	now := b.Now()
	var text string
	switch {
	case err != nil && b.store.Fail(now):
		text = fmt.Sprintf("【reportbot】数据库写不进去（%v）：成员发的材料暂时存不下，机器人已回复他们稍后重发。请检查数据目录所在磁盘的空间和权限。"+
			"之后再失败只记日志；写入恢复、连续%d分钟不再出错时，会再告诉你们。", err, int(b.store.Quiet.Minutes()))
	case err != nil:
		_, n := b.store.Summary()
		b.Logger.Warn().Err(err).Int("failures", n).Msg("store still failing: the admins were told when it started")
		return
	case b.store.OK(now):
		since, n := b.store.Summary()
		b.Logger.Info().Time("since", since).Int("failures", n).Msg("store writes work again")
		text = fmt.Sprintf("【reportbot】数据库恢复正常：已经%d分钟没有写入失败，成员的材料又能存进去了（出错期间共%d次没存下）。之前回复过“暂存失败”的成员需要重发。",
			int(b.store.Quiet.Minutes()), n)
	default:
		return
	}
	if err := b.TellAdmins(ctx, text); err != nil {
		b.store.Untold()
		b.Logger.Error().Err(err).Msg("tell the admins about the store: will try again at the next write")
	}
}

// Wakeups signals that a receipt became owed, so that a loop sleeping until
// NextWake can look again.
func (b *Bot) Wakeups() <-chan struct{} { return b.wakeups }

// readMedia reads a message's media within the size limit. It answers the member
// itself and returns nil when the media cannot be taken.
func (b *Bot) readMedia(ctx context.Context, m Message, log zerolog.Logger) ([]byte, error) {
	limit := b.Config.MaxMedia()
	what := mediaNoun(m.Kind)
	tooLarge := func(size int64) error {
		log.Warn().Int64("size", size).Int64("limit", limit).Msg("media too large")
		return b.reply(ctx, m, fmt.Sprintf("@%s 这个%s有 %s，超过了 %s 的上限，没有记入。请压缩后重发，或分成几部分发送。",
			m.Sender.Name, what, humanSize(size), humanSize(limit)), m.Sender)
	}
	if m.Size > limit && limit > 0 {
		return nil, tooLarge(m.Size)
	}
	if m.Open == nil {
		return nil, b.reply(ctx, m, fmt.Sprintf("@%s 没能接收这个%s，请重发。", m.Sender.Name, what), m.Sender)
	}
	r, err := m.Open(ctx)
	if err == nil {
		var data []byte
		data, err = readAll(io.LimitReader(r, limit+1), m.Size)
		r.Close()
		if err == nil && limit > 0 && int64(len(data)) > limit {
			return nil, tooLarge(int64(len(data)))
		}
		if err == nil && len(data) == 0 {
			err = errors.New("empty media")
		}
		if err == nil {
			return data, nil
		}
	}
	log.Warn().Err(err).Msg("read media")
	return nil, b.reply(ctx, m, fmt.Sprintf("@%s 没能接收这个%s（%v），没有记入，请重发。", m.Sender.Name, what, err), m.Sender)
}

// readAll is io.ReadAll into a buffer of the announced size: a photo is then
// read without copying it again at every doubling.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > 1<<30 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// isPicture reports whether data is an image a phone sends: JPEG, PNG and GIF
// are decoded (their header at least); WebP, HEIC, BMP and TIFF are known by
// their signature.
func isPicture(data []byte) bool {
	if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		return true
	}
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return true
	case len(data) >= 12 && string(data[4:8]) == "ftyp" && strings.Contains("heic heix mif1 heif avif", string(data[8:12])):
		return true
	case len(data) >= 2 && string(data[:2]) == "BM":
		return true
	case len(data) >= 4 && (string(data[:4]) == "II*\x00" || string(data[:4]) == "MM\x00*"):
		return true
	}
	return false
}

func mediaNoun(k schedules.Material) string {
	_, n := k.Noun()
	return n
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0fKB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d字节", n)
}

// withdraw handles a recall: the submission no longer counts.
func (b *Bot) withdraw(ctx context.Context, m Message) error {
	sub, err := b.Store.Withdraw(m.Recalls)
	if err != nil || sub == nil {
		return err
	}
	b.Logger.Info().Str("msg_id", m.Recalls).Str("unit", sub.Unit).Str("task", sub.Task).Int("period", sub.Period).Msg("submission withdrawn")
	// If the period is no longer what the receipt said, the next receipt tells again.
	task := b.Campaigns().TaskByKey(sub.Task)
	if task == nil {
		return nil
	}
	r, err := b.unitReport(task, sub.Period, sub.Unit)
	if err != nil {
		return err
	}
	level, err := b.Store.Receipt(sub.Task, sub.Period, sub.Unit)
	if err != nil {
		return err
	}
	if now := r.receiptLevel(); now < level {
		return b.Store.SetReceipt(sub.Task, sub.Period, sub.Unit, now)
	}
	return nil
}

// keywordTask is the task whose keyword appears in text, preferring the longest keyword.
func keywordTask(tasks []*schedules.Task, text string) *schedules.Task {
	var best *schedules.Task
	bestLen := 0
	for _, t := range tasks {
		for _, k := range t.Keywords {
			if strings.Contains(text, k) && len(k) > bestLen {
				best, bestLen = t, len(k)
			}
		}
	}
	return best
}

// attribute picks the task and period a message counts for (DESIGN rule 1 and
// 2), among the tasks of every campaign that takes reports now.
func (b *Bot) attribute(unit string, m Message, now time.Time) (task *schedules.Task, period int, late bool) {
	set := b.Campaigns()
	tasks := schedules.Tasks(set.Open(now))
	// (a) A keyword in the text or the file's name.
	if t := keywordTask(tasks, m.Text+" "+m.FileName); t != nil {
		p, late := b.periodFor(t, unit, now)
		return t, p, late
	}
	// (b) The same member's report of the last few minutes: photos after a text.
	if last, err := b.Store.LastSubmission(m.Sender.Name); err == nil && last != nil && last.Unit == unit &&
		now.Sub(last.At) <= time.Duration(b.Config.Bot.FollowMinutes)*time.Minute {
		if t := set.TaskByKey(last.Task); t != nil && t.Campaign.TakesReports(now) {
			if p, ok := t.Period(last.Period); ok {
				return t, last.Period, now.After(p.Due)
			}
		}
	}
	// (c) The open task with the nearest deadline that the unit still owes,
	// else the nearest of all, else a task without deadline.
	var best, owedBest *schedules.Task
	var bestP, owedP int
	var bestLate, owedLate bool
	var bestD, owedD time.Duration = -1, -1
	var anytime *schedules.Task
	for _, t := range tasks {
		if t.Anytime {
			if anytime == nil {
				anytime = t
			}
			continue
		}
		n, late := b.periodFor(t, unit, now)
		p, _ := t.Period(n)
		if !late && now.After(p.Due) {
			continue // closed
		}
		d := p.Due.Sub(now)
		if d < 0 {
			d = -d
		}
		if bestD < 0 || d < bestD {
			best, bestP, bestLate, bestD = t, n, late, d
		}
		if r, err := b.unitReport(t, n, unit); err == nil && r.Status != Reported && r.Status != Exempt && r.Status != Late {
			if owedD < 0 || d < owedD {
				owedBest, owedP, owedLate, owedD = t, n, late, d
			}
		}
	}
	switch {
	case owedBest != nil:
		return owedBest, owedP, owedLate
	case best != nil:
		return best, bestP, bestLate
	case anytime != nil:
		return anytime, 1, false
	}
	return nil, 0, false
}

// periodFor is the period a unit's report at now counts for: the period just
// past its deadline, as late, while its late window is open and the unit still
// owes it; else the period now falls in.
func (b *Bot) periodFor(t *schedules.Task, unit string, now time.Time) (int, bool) {
	if t.Anytime {
		return 1, false
	}
	for i := len(t.Periods) - 1; i >= 0; i-- {
		p := t.Periods[i]
		if !now.After(p.Due) {
			continue
		}
		// p is the last period whose deadline has passed.
		if now.Before(p.LateUntil) {
			if r, err := b.unitReport(t, p.N, unit); err == nil && (r.Status == Missing || r.Status == Partial) {
				return p.N, true
			}
		}
		if i+1 < len(t.Periods) {
			return p.N + 1, false
		}
		return p.N, true // after the last deadline: kept, as late
	}
	return 1, false
}

// Wake sends the receipts that are due by now.
func (b *Bot) Wake(ctx context.Context, now time.Time) error {
	return b.sendReceipts(ctx, func(r owedReceipt) bool { return !r.at.After(now) })
}

// Flush sends every owed receipt now, as on shutdown.
func (b *Bot) Flush(ctx context.Context) error {
	return b.sendReceipts(ctx, func(owedReceipt) bool { return true })
}

func (b *Bot) sendReceipts(ctx context.Context, due func(owedReceipt) bool) error {
	b.mu.Lock()
	var keys []periodKey
	owed := map[periodKey]owedReceipt{}
	for k, r := range b.receipts {
		if due(r) {
			keys = append(keys, k)
			owed[k] = r
			delete(b.receipts, k)
		}
	}
	b.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Task != keys[j].Task {
			return keys[i].Task < keys[j].Task
		}
		if keys[i].Period != keys[j].Period {
			return keys[i].Period < keys[j].Period
		}
		return b.unitIndex(keys[i].Unit) < b.unitIndex(keys[j].Unit)
	})
	var errs []error
	for _, k := range keys {
		errs = append(errs, b.sendReceipt(ctx, k, owed[k]))
	}
	return errors.Join(errs...)
}

// NextWake is when the next owed receipt is due.
func (b *Bot) NextWake() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var next time.Time
	for _, r := range b.receipts {
		if next.IsZero() || r.at.Before(next) {
			next = r.at
		}
	}
	return next, !next.IsZero()
}

func (b *Bot) unitIndex(name string) int {
	for i, u := range b.Config.Units {
		if u.Name == name {
			return i
		}
	}
	return len(b.Config.Units)
}

func (b *Bot) sendReceipt(ctx context.Context, k periodKey, owed owedReceipt) error {
	task := b.Campaigns().TaskByKey(k.Task)
	if task == nil {
		return nil
	}
	r, err := b.unitReport(task, k.Period, k.Unit)
	if err != nil {
		return err
	}
	told, err := b.Store.Receipt(k.Task, k.Period, k.Unit)
	if err != nil {
		return err
	}
	level := r.receiptLevel()
	if level <= told && len(owed.notes) == 0 {
		return nil // more material for a period already receipted: stored silently
	}
	title := fmt.Sprintf("%s %s「%s」", k.Unit, task.Label(k.Period), task.Name)
	title = strings.Replace(title, " 「", "「", 1)
	if r.Status == Late || r.Status == Partial && r.AnyLate {
		title += "（迟报）"
	}
	verb := "已收到"
	if told == ReceiptPartial && level > told {
		verb = "已收齐"
	}
	text := fmt.Sprintf("%s %s：%s", verb, title, r.CountsText())
	if len(b.Campaigns().Open(b.Now())) > 1 {
		text = "【" + task.Campaign.Name + "】" + text
	}
	if level == ReceiptPartial {
		text += "，还差" + r.MissingText()
	}
	for _, n := range owed.notes {
		text += "。" + n
	}
	text += undoHint
	// The reporter is named as its addressee, not written into the text: the
	// group sees the unit's receipt, and a transport that can notify people
	// (钉钉's real @) addresses it to them.
	var addressee []Member
	if owed.to.IsZero() && !owed.by.IsZero() {
		addressee = []Member{owed.by}
	}
	msg := Outgoing{Purpose: Receipt, To: owed.to, Text: text, Mentions: addressee}
	mark := ReceiptMark{Task: k.Task, Period: k.Period, Unit: k.Unit, Level: max(level, told)}
	if rs, ok := b.Chat.(ReceiptSender); ok {
		// Queued and recorded in one transaction.
		if done, err := rs.SendReceipt(ctx, b.parts(msg), mark); done {
			if err != nil {
				return fmt.Errorf("send the receipt of %s: %w", k.Unit, err)
			}
			return nil
		}
	}
	if err := b.send(ctx, msg); err != nil {
		return err
	}
	return b.Store.SetReceipt(k.Task, k.Period, k.Unit, mark.Level)
}

// docxImages counts the pictures a Word file holds (word/media/); 0 for a
// file that is not a readable .docx.
func docxImages(data []byte) int {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0
	}
	n := 0
	for _, f := range z.File {
		if strings.HasPrefix(f.Name, "word/media/") {
			switch strings.ToLower(filepath.Ext(f.Name)) {
			case ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".heic":
				n++
			}
		}
	}
	return n
}
