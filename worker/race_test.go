//go:build race

package worker

// raceEnabled: the race detector allocates for its own bookkeeping, so
// AllocsPerRun tests skip under it.
const raceEnabled = true
