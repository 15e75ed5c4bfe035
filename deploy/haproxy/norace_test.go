//go:build !race

package haproxy_test

const raceEnabled = false
