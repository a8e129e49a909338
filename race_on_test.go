//go:build race

package main

// raceDetector is set when the tests run under -race, which makes the
// simulated year take minutes: CI runs it once without.
const raceDetector = true
