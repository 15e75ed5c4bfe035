package main

import (
	"flag"
	"log/slog"
	"os"
	"time"
)

// shutdownDelayFlag defines -shutdown-delay; what it does is in this file.
func shutdownDelayFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("shutdown-delay", 0, "on SIGTERM/SIGINT, keep serving this long with /readyz answering 503 before the graceful shutdown starts, so that a load balancer's health check takes the instance out before its listener closes (0: start at once)")
}

// delaySignals holds the first signal for delay before serve sees it: the
// server still accepts and answers meanwhile, while /readyz (already 503:
// metricsServer.watch ran first) tells the load balancers to stop sending.
// Closing the listener at once would refuse the connections a balancer
// sends before its next health check notices. A second signal during the
// delay cuts it short and is passed on as well, so it still means "stop
// now", as it does without a delay.
func delaySignals(log *slog.Logger, sigs <-chan os.Signal, delay time.Duration) <-chan os.Signal {
	if delay <= 0 {
		return sigs
	}
	out := make(chan os.Signal, 2)
	go func() {
		first := <-sigs
		log.Info("shutdown delay: still serving, not ready", "signal", first.String(), "delay", delay.String())
		t := time.NewTimer(delay)
		select {
		case <-t.C:
			out <- first
		case second := <-sigs:
			t.Stop()
			out <- first
			out <- second
		}
		for s := range sigs {
			out <- s
		}
	}()
	return out
}
