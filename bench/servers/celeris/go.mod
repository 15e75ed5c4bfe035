module github.com/uringd/uringd/bench/servers/celeris

go 1.26.4

// celeris is not served by the module proxy. The bench harness builds this
// module with a copy of this file to which it adds
//
//	replace github.com/goceleris/celeris => <abs>/../shared/peers/celeris
//
// (cmd/bench/celeris.go); without that folder the peer is skipped.
require github.com/goceleris/celeris v1.5.8

require github.com/uringd/uringd/bench v0.0.0-00010101000000-000000000000

require (
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.50.0
	golang.org/x/text v0.40.0 // indirect
)

replace (
	github.com/uringd/uringd => ../../..
	github.com/uringd/uringd/bench => ../..
)

