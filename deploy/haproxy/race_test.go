//go:build race

package haproxy_test

// raceEnabled: this test binary was built with -race, which the recipe's
// binaries (built by run.sh) are not; the run would only repeat itself.
const raceEnabled = true
