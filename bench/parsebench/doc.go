// Package parsebench measures uringd's http1 request parser and response
// writer side by side with fasthttp's, on the same real request bytes (the
// corpus in http1/testdata/corpus). It holds benchmarks only.
//
//	cd bench && taskset -c 0 go test -run '^$' -bench . -benchmem ./parsebench/
package parsebench
