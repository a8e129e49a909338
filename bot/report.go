package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"reportbot/schedules"
)

// UnitReport is where one unit stands for one period.
type UnitReport struct {
	Unit   string
	Status Status
	// Counts are the unit's items by material; a spreadsheet counts as a File and a Sheet.
	Counts Counts
	// Missing is what a partial report still lacks.
	Missing []schedules.Requirement
	// AnyLate is set when some of the material came after the deadline.
	AnyLate bool
	// Submissions are the unit's live submissions (not withdrawn), in arrival order.
	Submissions []Submission
	// Mark is the coordinator's mark, if any.
	Mark Mark
	// Last is when the latest live submission came.
	Last time.Time
}

var materialOrder = []schedules.Material{schedules.Text, schedules.Image, schedules.File, schedules.Video}

// isSheet reports whether a file is a statistics table the merge can read:
// .xlsx only. An .xls or .et is stored as a file and its sender asked for
// .xlsx at once (see oldSheet), instead of being counted and then refused by
// the merge.
func isSheet(name string) bool {
	return strings.EqualFold(filepath.Ext(name), ".xlsx")
}

// oldSheet reports whether a file is a spreadsheet in a form the merge cannot
// read.
func oldSheet(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xls", ".et", ".csv", ".ods", ".numbers":
		return true
	}
	return false
}

// unmet lists the requirements the counts do not meet, each with what is still needed.
func unmet(reqs []schedules.Requirement, c Counts) []schedules.Requirement {
	var out []schedules.Requirement
	for _, r := range reqs {
		have := 0
		for _, m := range r.Any {
			have += c.Of(m)
		}
		if have < r.Min {
			out = append(out, schedules.Requirement{Any: r.Any, Min: r.Min - have})
		}
	}
	return out
}

// ReportSource is what computing statuses reads: the store.
type ReportSource interface {
	PeriodSubmissions(task string, period int) ([]Submission, error)
	// UnitSubmissions is one unit's part of PeriodSubmissions, read on its own.
	UnitSubmissions(task string, period int, unit string) ([]Submission, error)
	Marks(task string, period int) (map[string]Mark, error)
	// EachTally calls fn with the counts of each unit that sent something for
	// a period, kept as submissions come and go, in the order of the units'
	// names as bytes; unit and t are fn's only during the call. UnitTally is
	// one unit's.
	EachTally(task string, period int, fn func(unit []byte, t *Tally)) error
	UnitTally(task string, period int, unit string) (Tally, error)
}

// Tally is what a unit sent for a period, counted as it came and went: enough
// for its status without reading the submissions.
type Tally struct {
	All    Counts `json:"all,omitzero"`
	OnTime Counts `json:"on_time,omitzero"`
	// Items and LateItems count live submissions.
	Items     int       `json:"items,omitempty"`
	LateItems int       `json:"late,omitempty"`
	Last      time.Time `json:"last,omitzero"`
}

// Add counts a submission in (sign 1) or out again (sign -1, a recall).
func (t *Tally) Add(s Submission, sign int) {
	t.All.count(s, sign)
	if !s.Late {
		t.OnTime.count(s, sign)
	}
	t.Items += sign
	if s.Late {
		t.LateItems += sign
	}
	if sign > 0 && s.At.After(t.Last) {
		t.Last = s.At
	}
}

// periodReports says where every unit, in config order, stands for a period,
// from the tallies: this is what roll-calls and queries read.
func (b *Bot) periodReports(t *schedules.Task, n int) ([]UnitReport, error) {
	return Statuses(b.Store, b.Config.Units, t, n)
}

// Statuses is Reports without the submissions: the tallies and marks only.
func Statuses(src ReportSource, units []Unit, t *schedules.Task, n int) ([]UnitReport, error) {
	marks, err := src.Marks(t.Key, n)
	if err != nil {
		return nil, err
	}
	// The tallies come in the order of the names, the reports go in the
	// config's: each unit's place, instead of a map of the tallies (for a
	// thousand units that map cost a roll-call a third of its CPU).
	place := make(map[string]int, len(units))
	for i, u := range units {
		place[u.Name] = i
	}
	out := make([]UnitReport, len(units))
	counted := make([]bool, len(units))
	err = src.EachTally(t.Key, n, func(unit []byte, tally *Tally) {
		if i, ok := place[string(unit)]; ok {
			out[i], counted[i] = statusOf(units[i].Name, t, *tally, marks[units[i].Name]), true
		}
	})
	if err != nil {
		return nil, err
	}
	for i, u := range units {
		if !counted[i] {
			out[i] = statusOf(u.Name, t, Tally{}, marks[u.Name])
		}
	}
	return out, nil
}

// Reports says where each unit, in the order given, stands for period n of task t.
func Reports(src ReportSource, units []Unit, t *schedules.Task, n int) ([]UnitReport, error) {
	subs, err := src.PeriodSubmissions(t.Key, n)
	if err != nil {
		return nil, err
	}
	marks, err := src.Marks(t.Key, n)
	if err != nil {
		return nil, err
	}
	byUnit := map[string][]Submission{}
	for _, s := range subs {
		byUnit[s.Unit] = append(byUnit[s.Unit], s)
	}
	out := make([]UnitReport, 0, len(units))
	for _, u := range units {
		out = append(out, unitReportOf(u.Name, t, byUnit[u.Name], marks[u.Name]))
	}
	return out, nil
}

// unitReport says where one unit stands, from its tally: what every incoming
// message asks, so it reads neither the other units nor the submissions.
func (b *Bot) unitReport(t *schedules.Task, n int, unit string) (UnitReport, error) {
	tally, err := b.Store.UnitTally(t.Key, n, unit)
	if err != nil {
		return UnitReport{}, err
	}
	marks, err := b.Store.Marks(t.Key, n)
	if err != nil {
		return UnitReport{}, err
	}
	return statusOf(unit, t, tally, marks[unit]), nil
}

// UnitReportOf is one unit's report with its submissions, reading only that
// unit's range of the period: a page about one unit must not grow with the others.
func UnitReportOf(src ReportSource, unit string, t *schedules.Task, n int) (UnitReport, error) {
	subs, err := src.UnitSubmissions(t.Key, n, unit)
	if err != nil {
		return UnitReport{}, err
	}
	marks, err := src.Marks(t.Key, n)
	if err != nil {
		return UnitReport{}, err
	}
	return unitReportOf(unit, t, subs, marks[unit]), nil
}

// unitReportOf is a unit's report with its submissions (withdrawn ones left out).
func unitReportOf(unit string, t *schedules.Task, subs []Submission, mark Mark) UnitReport {
	var tally Tally
	var live []Submission
	for _, s := range subs {
		if !s.Withdrawn {
			tally.Add(s, 1)
			live = append(live, s)
		}
	}
	r := statusOf(unit, t, tally, mark)
	r.Submissions = live
	return r
}

// statusOf computes a unit's status from its tally and the coordinator's mark.
func statusOf(unit string, t *schedules.Task, tally Tally, mark Mark) UnitReport {
	r := UnitReport{Unit: unit, Counts: tally.All.positive(), Mark: mark, AnyLate: tally.LateItems > 0, Last: tally.Last}
	onTime := tally.OnTime
	r.Missing = unmet(t.Requires, r.Counts)
	switch {
	case mark.Status == Exempt:
		r.Status = Exempt
	case mark.Status == Reported:
		r.Status, r.Missing = Reported, nil
	case tally.Items <= 0:
		r.Status = Missing
	case len(r.Missing) > 0:
		r.Status = Partial
	case len(unmet(t.Requires, onTime)) == 0:
		r.Status = Reported
	default:
		r.Status = Late
	}
	return r
}

// receiptLevel is what the unit's material amounts to, whatever a coordinator marked.
func (r UnitReport) receiptLevel() int {
	n := 0
	for _, m := range materialOrder {
		n += r.Counts.Of(m)
	}
	switch {
	case n == 0:
		return ReceiptNone
	case len(r.Missing) > 0:
		return ReceiptPartial
	}
	return ReceiptComplete
}

// CountsText is "文字1条，图片3张".
func (r UnitReport) CountsText() string {
	var parts []string
	for _, m := range materialOrder {
		if n := r.Counts.Of(m); n > 0 {
			measure, name := m.Noun()
			parts = append(parts, fmt.Sprintf("%s%d%s", name, n, measure))
		}
	}
	if len(parts) == 0 {
		return "无"
	}
	return strings.Join(parts, "，")
}

// MissingText is what a partial report still lacks, as the bot and the
// workbook tell it: "至少1张图片、至少1个统计表"; "" when nothing is missing.
func (r UnitReport) MissingText() string {
	parts := make([]string, len(r.Missing))
	for i, m := range r.Missing {
		parts[i] = m.String()
	}
	return strings.Join(parts, "、")
}

// statusOrder is the order of the lines of a roll-call.
var statusOrder = []Status{Reported, Late, Partial, Missing, Exempt}

// rollcallLines writes the status lines of a period ("已报 N：A、B"), a line
// saying what partial units still lack, and returns the names of the units
// that still owe (their reports would be copied for nothing: a name is all
// the @ lines need).
// Lines with no unit are left out, but for 未报 when missingZero is set.
func rollcallLines(reports []UnitReport, show []Status, missingZero bool) (lines []string, owing []string) {
	// Reports are large: read in place.
	var names strings.Builder
	for _, st := range show {
		names.Reset()
		k := 0
		for i := range reports {
			if reports[i].Status == st {
				if k > 0 {
					names.WriteString("、")
				}
				names.WriteString(reports[i].Unit)
				k++
			}
		}
		if k == 0 && !(missingZero && st == Missing) {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %d：", st.Label(), k)+names.String())
	}
	n := 0
	for i := range reports {
		if st := reports[i].Status; st == Partial || st == Missing {
			n++
		}
	}
	owing = make([]string, 0, n)
	var lacks strings.Builder
	// Partial units mostly lack the same: its text is written once.
	var lastMissing []schedules.Requirement
	lastText := ""
	for i := range reports {
		r := &reports[i]
		if r.Status == Partial {
			if lacks.Len() > 0 {
				lacks.WriteString("；")
			}
			if lastText == "" || !slices.EqualFunc(r.Missing, lastMissing, sameRequirement) {
				lastMissing, lastText = r.Missing, r.MissingText()
			}
			lacks.WriteString(r.Unit)
			lacks.WriteString(" ")
			lacks.WriteString(lastText)
		}
		if r.Status == Partial || r.Status == Missing {
			owing = append(owing, r.Unit)
		}
	}
	if lacks.Len() > 0 {
		lines = append(lines, "还差："+lacks.String())
	}
	return lines, owing
}

func sameRequirement(a, b schedules.Requirement) bool {
	return a.Min == b.Min && slices.Equal(a.Any, b.Any)
}

// members are the display names to @mention for a unit: the config's members,
// then those who bound themselves to it.
func (b *Bot) members(unit string) []Member {
	var out []Member
	seen := map[string]bool{}
	if u := b.Config.Unit(unit); u != nil {
		for _, m := range u.Members {
			if !seen[m] {
				seen[m] = true
				out = append(out, named(m))
			}
		}
	}
	bound, err := b.Store.BoundMembers(unit)
	if err != nil {
		b.Logger.Warn().Err(err).Str("unit", unit).Msg("read bound members")
	}
	for _, m := range bound {
		if !seen[m.ID] && !seen[m.Name] {
			seen[m.ID], seen[m.Name] = true, true
			out = append(out, m)
		}
	}
	return out
}

// unitAts is one owing unit's line of @mentions ("东风社区：@张三 @李四").
type unitAts struct{ unit, line string }

// mentionLines @mentions the members of the owing units, one line per unit;
// a unit none of whose members is in the group has no line (the roll-call
// above already names it).
func (b *Bot) mentionLines(owing []string) (lines []unitAts, mentions []Member) {
	for _, unit := range owing {
		var ms []Member
		for _, m := range b.members(unit) {
			if b.inGroup(m) {
				ms = append(ms, m)
			}
		}
		if len(ms) == 0 {
			continue
		}
		ats := make([]string, len(ms))
		for i, m := range ms {
			ats[i] = "@" + m.Name
		}
		lines = append(lines, unitAts{unit, unit + "：" + strings.Join(ats, " ")})
		mentions = append(mentions, ms...)
	}
	return lines, mentions
}

// Fire sends scheduled events, once: each event is recorded as handled
// together with its message (see Outbox), or alone when there is nothing to
// send. Several events (of different campaigns, due in the same minute, see
// schedules.Combine) go out as one message, each under its campaign's name,
// the members owing anything @mentioned once at the end.
func (b *Bot) Fire(ctx context.Context, events ...schedules.Event) error {
	var keys []string
	var parts []eventPart
	for _, e := range events {
		p, send, err := b.eventMessage(e)
		if err != nil {
			return fmt.Errorf("fire %s: %w", e.Key, err)
		}
		if !send {
			if e.Key != "" {
				if _, err := b.Store.MarkSent(e.Key, b.Now(), "nothing to send: every unit had reported"); err != nil {
					return err
				}
			}
			continue
		}
		if e.Key != "" {
			keys = append(keys, e.Key)
		}
		if e.Campaign != nil {
			p.campaign = e.Campaign.Name
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return nil
	}
	m := Outgoing{Purpose: parts[0].purpose}
	var blocks, ats []string
	seenUnit, seenMember := map[string]bool{}, map[Member]bool{}
	byCampaign := map[string]int{}
	for _, p := range parts {
		if len(parts) > 1 {
			// One header per campaign, its events' texts under it.
			if i, ok := byCampaign[p.campaign]; ok {
				blocks[i] += "\n\n" + p.body
				p.body = ""
			} else {
				byCampaign[p.campaign] = len(blocks)
				p.body = "【" + p.campaign + "】\n" + p.body
			}
		}
		if p.body != "" {
			blocks = append(blocks, p.body)
		}
		for _, a := range p.ats {
			if !seenUnit[a.unit] {
				seenUnit[a.unit] = true
				ats = append(ats, a.line)
			}
		}
		for _, who := range p.mentions {
			if !seenMember[who] {
				seenMember[who] = true
				m.Mentions = append(m.Mentions, who)
			}
		}
	}
	m.Text = strings.Join(blocks, "\n\n")
	if len(ats) > 0 {
		if lead := parts[0].lead; len(parts) > 1 {
			ats = append([]string{"请以上单位抓紧报送："}, ats...)
		} else if lead != "" {
			ats = append([]string{lead}, ats...)
		}
		m.Text += "\n" + strings.Join(ats, "\n")
	}
	if m.Purpose == Reminder {
		m.Text = b.withHint(m.Text)
	}
	if len(parts) > 1 {
		b.Logger.Info().Strs("keys", keys).Msg("coinciding scheduled messages combined")
	}
	return b.sendEvent(ctx, keys, m)
}

// eventPart is what one scheduled event says: its text, then the owing
// units' @ lines (after lead), kept apart so that combined events @ each
// member once.
type eventPart struct {
	purpose  Purpose
	campaign string
	body     string
	lead     string
	ats      []unitAts
	mentions []Member
}

// eventMessage is what one scheduled event says; send is false for a nudge
// when every unit has reported.
func (b *Bot) eventMessage(e schedules.Event) (p eventPart, send bool, err error) {
	log := b.Logger.With().Str("key", e.Key).Logger()
	if e.Kind == schedules.Announce {
		log.Info().Msg("announcement")
		return eventPart{purpose: Announcement, body: e.Text}, true, nil
	}
	reports, err := b.periodReports(e.Task, e.Period)
	if err != nil {
		return p, false, err
	}
	vars := e.Vars()
	owe := 0
	for _, r := range reports {
		if r.Status == Missing || r.Status == Partial {
			owe++
		}
	}
	vars["未报数"] = fmt.Sprint(owe)
	header := strings.ReplaceAll(schedules.Fill(e.Text, vars), "「」", "")
	header = strings.ReplaceAll(header, "  ", " ")
	switch e.Kind {
	case schedules.Remind:
		log.Info().Msg("reminder")
		return eventPart{purpose: Reminder, body: header}, true, nil
	case schedules.Nudge:
		if owe == 0 {
			log.Info().Msg("nudge skipped: every unit has reported")
			return p, false, nil
		}
		lines, owing := rollcallLines(reports, []Status{Missing, Partial}, false)
		ats, mentions := b.mentionLines(owing)
		log.Info().Int("owing", owe).Msg("nudge")
		return eventPart{purpose: Nudge, body: strings.Join(append([]string{header}, lines...), "\n"), ats: ats, mentions: mentions}, true, nil
	default: // roll-call
		lines, owing := rollcallLines(reports, statusOrder, false)
		ats, mentions := b.mentionLines(owing)
		log.Info().Int("owing", owe).Msg("roll-call")
		return eventPart{purpose: Rollcall, body: strings.Join(append([]string{header}, lines...), "\n"), lead: "请以上单位尽快补报：",
			ats: ats, mentions: mentions}, true, nil
	}
}
