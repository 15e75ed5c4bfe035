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
// twice does not want to wait out the grace. SIGUSR2 (usr2) starts a
// binary upgrade (upgrade.go); once the new process serves, this one
// shuts down as on SIGTERM.
func serve(log *slog.Logger, srv *uringd.Server, sigs, usr2 <-chan os.Signal, grace, upgradeTimeout time.Duration) int {
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Wait() }()
	var (
		cancel    context.CancelFunc
		forced    bool
		deadline  <-chan time.Time
		upgrading bool
		upDone    = make(chan upgradeResult, 1)
	)
	defer func() {
		if cancel != nil {
			cancel()
		}
	}()
	shutdown := func(why ...any) {
		log.Info("shutting down", append(why, "grace", grace.String())...)
		var ctx context.Context
		ctx, cancel = context.WithTimeout(context.Background(), grace)
		go func() {
			if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
				log.Warn("shutdown grace period over; connections closed", "err", err)
			}
		}()
	}
	for {
		select {
		case <-usr2:
			switch {
			case cancel != nil:
				log.Warn("SIGUSR2 ignored: shutting down")
			case upgrading:
				log.Warn("SIGUSR2 ignored: an upgrade is already in flight")
			default:
				upgrading = true
				log.Info("upgrade: starting the new process (SIGUSR2)", "timeout", upgradeTimeout.String())
				go func() { upDone <- upgrade(srv, upgradeTimeout) }()
			}
		case r := <-upDone:
			upgrading = false
			switch {
			case r.err != nil:
				log.Error("upgrade failed; this process keeps serving", "err", r.err.Error())
			case cancel != nil:
				log.Info("upgrade: new process serving; this one was already shutting down", "new_pid", r.pid)
			default:
				log.Info("upgrade: new process serving; this one stops accepting and drains", "new_pid", r.pid)
				shutdown("reason", "upgrade", "new_pid", r.pid)
			}
		case s := <-sigs:
			if cancel == nil {
				shutdown("signal", s.String())
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
