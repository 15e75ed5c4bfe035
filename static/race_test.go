//go:build race

package static_test

const raceEnabled = true
