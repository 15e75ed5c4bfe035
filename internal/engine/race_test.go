//go:build race

package engine

// raceEnabled: the race detector allocates for its own bookkeeping, so
// AllocsPerRun tests skip under it.
const raceEnabled = true
