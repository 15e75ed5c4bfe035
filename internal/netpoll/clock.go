package netpoll

import "time"

// bodyClock times the read of a request's body, counting only the time
// spent waiting for the client: a read's wait, not what the handler of a
// streamed body does between its reads, nor the writes of earlier
// responses. It bounds the body by the configured minimum rate (after a
// grace period) and the whole request by RequestReadTimeout, as the
// io_uring engine does (worker/timeout.go).
type bodyClock struct {
	on     bool
	head   time.Duration // the request's time before its body began
	waited time.Duration // time spent in reads since the body began
	rx     int64         // body bytes read since the body began
}

// start begins timing the body of the request that began at reqStart.
func (k *bodyClock) start(reqStart time.Time) {
	*k = bodyClock{on: true, head: time.Since(reqStart)}
}

// deadline is the read deadline of the next read of the body, from now.
func (k *bodyClock) deadline(cfg *Config, now time.Time) time.Time {
	budget := cfg.BodyTimeout
	if cfg.MinBodyRate > 0 {
		credit := time.Duration(float64(k.rx) / float64(cfg.MinBodyRate) * float64(time.Second))
		budget = min(budget, cfg.MinBodyRateGrace+credit-k.waited)
	}
	if cfg.RequestReadTimeout > 0 {
		budget = min(budget, cfg.RequestReadTimeout-k.head-k.waited)
	}
	return now.Add(max(budget, 0))
}

// read accounts one read of n body bytes that began at start.
func (k *bodyClock) read(start time.Time, n int) {
	k.waited += time.Since(start)
	k.rx += int64(n)
}

// headDeadline is the read deadline while the head of the request that
// began at reqStart is incomplete: fixed from its start.
func headDeadline(cfg *Config, reqStart time.Time) time.Time {
	d := cfg.HeaderTimeout
	if cfg.RequestReadTimeout > 0 {
		d = min(d, cfg.RequestReadTimeout)
	}
	return reqStart.Add(d)
}
