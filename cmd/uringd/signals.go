package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/uringd/uringd"
)

// serve waits for the server to stop. The first signal starts a graceful
// shutdown of at most grace; a second one ends it at once (connections
// closed, exit 1), as nginx and most Go servers do: an operator who asks
// twice does not want to wait out the grace.
func serve(log *slog.Logger, srv *uringd.Server, sigs <-chan os.Signal, grace time.Duration) int {
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Wait() }()
	var (
		cancel   context.CancelFunc
		forced   bool
		deadline <-chan time.Time
	)
	for {
		select {
		case s := <-sigs:
			if cancel == nil {
				log.Info("shutting down", "signal", s.String(), "grace", grace.String())
				var ctx context.Context
				ctx, cancel = context.WithTimeout(context.Background(), grace)
				defer cancel()
				go func() {
					if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
						log.Warn("shutdown grace period over; connections closed", "err", err)
					}
				}()
				continue
			}
			if !forced {
				log.Warn("second signal: stopping now", "signal", s.String())
				forced = true
				cancel() // Shutdown closes the remaining connections
				deadline = time.After(forceWait)
			}
		case <-deadline:
			// A handler that ignores its closed connection (a plain handler
			// still computing holds its worker) must not keep the process.
			log.Error("workers still busy after the connections were closed; exiting", "waited", forceWait.String())
			return 1
		case err := <-stopped:
			if !errors.Is(err, uringd.ErrServerClosed) {
				log.Error("server stopped", "err", err)
				return 1
			}
			st := srv.Stats().Total
			log.Info("bye", "accepted", st.Accepted, "requests", st.Requests, "loop_turns", st.Loops,
				"bytes_in", st.BytesIn, "bytes_out", st.BytesOut, "bad_requests", st.BadRequests, "panics", st.Panics)
			if forced {
				return 1
			}
			return 0
		}
	}
}

// forceWait bounds the stop after a second signal.
const forceWait = 2 * time.Second
