package web

import (
	"net/http"
	"net/url"
	"strconv"

	"reportbot/schedules"
)

// scope is the campaign a request is about, within the campaigns in force.
type scope struct {
	set *schedules.Set
	c   *schedules.Schedule
}

// scope reads the campaign from the query, not a cookie: a link or a
// bookmark then always shows the same campaign, and a coordinator looking at
// June in November stays in June. Without one it is the newest of those
// current (June's campaign rather than a report that runs all year); false
// for an id no campaign has.
func (s *Server) scope(r *http.Request) (scope, bool) {
	sc := scope{set: s.o.Campaigns()}
	if sc.set == nil {
		return sc, false
	}
	if ids, named := r.URL.Query()["campaign"]; named {
		for _, c := range sc.set.All() {
			if c.ID == ids[0] {
				sc.c = c
			}
		}
	} else if current := sc.set.Current(s.o.Now()); len(current) > 0 {
		sc.c = current[len(current)-1]
	}
	return sc, sc.c != nil
}

// inScope is scope answering an unknown campaign with the not-found page.
func (s *Server) inScope(w http.ResponseWriter, r *http.Request) (scope, bool) {
	sc, ok := s.scope(r)
	if !ok {
		s.notFound(w, "这个活动")
	}
	return sc, ok
}

// param is the query parameter that keeps links in the campaign
// ("campaign=june"); "" when it is the only one, so its links stay short.
func (sc scope) param() string {
	if len(sc.set.All()) <= 1 {
		return ""
	}
	return "campaign=" + url.QueryEscape(sc.c.ID)
}

// withQuery puts query parameters after a path, leaving out empty ones.
func withQuery(path string, params ...string) string {
	sep := "?"
	for _, p := range params {
		if p != "" {
			path += sep + p
			sep = "&"
		}
	}
	return path
}

// campaignLink is one campaign in the switcher.
type campaignLink struct {
	Name    string
	URL     string
	Current bool
	// State is 进行中, 已结束 or 未开始.
	State string
}

// switcher lists every campaign by start, each linking to the page shown
// for that campaign, or to its overview when it has no such task or period.
func (s *Server) switcher(r *http.Request, sc scope) []campaignLink {
	now := s.o.Now()
	var out []campaignLink
	for _, c := range sc.set.All() {
		l := campaignLink{Name: c.Name, Current: c == sc.c, State: "未开始"}
		switch {
		case c.TakesReports(now):
			l.State = "进行中"
		case now.After(c.End):
			l.State = "已结束"
		}
		path := r.URL.EscapedPath()
		if !hasPage(r, c) {
			path = "/"
		}
		l.URL = withQuery(path, scope{set: sc.set, c: c}.param())
		out = append(out, l)
	}
	return out
}

// hasPage reports whether campaign c has the task and period the request's
// path names, if it names any.
func hasPage(r *http.Request, c *schedules.Schedule) bool {
	id := r.PathValue("task")
	if id == "" {
		return true
	}
	t := c.TaskByID(id)
	if t == nil {
		return false
	}
	if n := r.PathValue("period"); n != "" {
		num, err := strconv.Atoi(n)
		if _, ok := t.Period(num); err != nil || !ok {
			return false
		}
	}
	return true
}
