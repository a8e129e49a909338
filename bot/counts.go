package bot

import (
	"encoding/json"

	"reportbot/schedules"
)

// Materials are the kinds of material a unit's counts hold, in the order of
// Counts.
var Materials = [...]schedules.Material{schedules.Text, schedules.Image, schedules.File, schedules.Video, schedules.Sheet}

// Counts are pieces of material by kind, indexed like Materials. A fixed array
// rather than a map: a roll-call computes a thousand of them at a time, and an
// array costs no allocation.
type Counts [len(Materials)]int

func materialIndex(m schedules.Material) int {
	for i, k := range Materials {
		if k == m {
			return i
		}
	}
	return -1
}

// Of is how many pieces of m there are; 0 for a material Counts does not hold.
func (c Counts) Of(m schedules.Material) int {
	if i := materialIndex(m); i >= 0 {
		return c[i]
	}
	return 0
}

// Set sets the count of m; a material Counts does not hold is ignored.
func (c *Counts) Set(m schedules.Material, n int) {
	if i := materialIndex(m); i >= 0 {
		c[i] = n
	}
}

// IsZero says there is no material at all (and none counted negative).
func (c Counts) IsZero() bool { return c == Counts{} }

// count adds (sign 1) or takes away (sign -1) a submission's material: a
// spreadsheet is a File and a Sheet.
func (c *Counts) count(s Submission, sign int) {
	c.Set(s.Kind, c.Of(s.Kind)+sign)
	if s.Kind == schedules.File && isSheet(s.FileName) {
		c[materialIndex(schedules.Sheet)] += sign
	}
	// The photos inside a Word file are photos of the report.
	c[materialIndex(schedules.Image)] += sign * s.Images
}

// positive is c without counts below one, which a recall of something never
// counted in could leave.
func (c Counts) positive() Counts {
	for i, n := range c {
		if n < 0 {
			c[i] = 0
		}
	}
	return c
}

// MarshalJSON writes counts as {"image":3}, the form tallies were first
// stored in.
func (c Counts) MarshalJSON() ([]byte, error) {
	m := map[schedules.Material]int{}
	for i, n := range c {
		if n != 0 {
			m[Materials[i]] = n
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the form MarshalJSON writes; unknown materials are left out.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[schedules.Material]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = Counts{}
	for k, n := range m {
		c.Set(k, n)
	}
	return nil
}
