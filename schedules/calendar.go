package schedules

import (
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// official caches lunar-go's holidays by year: looking one day up in lunar-go
// scans its whole table (tens of microseconds), and schedules ask thousands of times.
var official struct {
	sync.Mutex
	years map[int]map[string]officialDay
}

type officialDay struct {
	name string
	work bool
}

func officialDays(year int) map[string]officialDay {
	official.Lock()
	defer official.Unlock()
	if days, ok := official.years[year]; ok {
		return days
	}
	if official.years == nil {
		official.years = map[int]map[string]officialDay{}
	}
	days := map[string]officialDay{}
	for e := HolidayUtil.GetHolidaysByYear(year).Front(); e != nil; e = e.Next() {
		if h, ok := e.Value.(*HolidayUtil.Holiday); ok {
			days[h.GetDay()] = officialDay{name: h.GetName(), work: h.IsWork()}
		}
	}
	official.years[year] = days
	return days
}

// Calendar says which days are working days: weekends are off, China's official
// holidays and 调休 workdays come from lunar-go (when Official is set), and the
// schedule file can declare days off or working days on top of both.
type Calendar struct {
	// Official applies the State Council's 法定节假日 and 调休 workdays.
	Official bool
	// Off are extra days off declared in the schedule file, by "2006-01-02", with a name.
	Off map[string]string
	// Work are extra working days declared in the schedule file (they win over everything).
	Work map[string]bool
}

// IsWorkday reports whether the calendar day of t (in t's location) is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	work, _ := c.Day(t)
	return work
}

// Day reports whether t's day is a working day and, for a day off or a 调休
// workday, the holiday's name ("端午节", "周六", or the schedule file's name).
func (c *Calendar) Day(t time.Time) (work bool, name string) {
	d := t.Format(time.DateOnly)
	if c != nil {
		if c.Work[d] {
			return true, "调整为工作日"
		}
		if n, ok := c.Off[d]; ok {
			if n == "" {
				n = "放假"
			}
			return false, n
		}
		if c.Official {
			if h, ok := officialDays(t.Year())[d]; ok {
				if h.work {
					return true, h.name + "调休上班"
				}
				return false, h.name
			}
		}
	}
	switch t.Weekday() {
	case time.Saturday:
		return false, "周六"
	case time.Sunday:
		return false, "周日"
	}
	return true, ""
}

// AddWorkdays moves t by n working days (n < 0 goes back), keeping the clock time.
// Zero leaves t where it is even on a day off.
func (c *Calendar) AddWorkdays(t time.Time, n int) time.Time {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		t = t.AddDate(0, 0, step)
		if c.IsWorkday(t) {
			n--
		}
	}
	return t
}
