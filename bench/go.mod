module github.com/uringd/uringd/bench

go 1.26.0

replace github.com/uringd/uringd => ../
