//go:build race

package export

// raceDetector is set when the tests run under -race, which makes the
// image-heavy size test take many minutes: CI runs it once without.
const raceDetector = true
