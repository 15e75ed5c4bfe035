package uringd

import (
	"net"
	"runtime"
	"slices"
	"sync"

	"github.com/uringd/uringd/internal/engine"
	"github.com/uringd/uringd/uring"
	"github.com/uringd/uringd/worker"
)

// uringServer is the io_uring engine: one worker (event loop on its own
// ring, pinned to a CPU) per SO_REUSEPORT listener.
type uringServer struct {
	mu     sync.Mutex // guards the fields below (never taken by workers)
	ws     []*worker.Worker
	closed bool  // the workers exited and were closed: their eventfds are gone
	runErr error // first error a worker loop returned while serving
	fin    chan struct{}
}

// startUring opens n listeners and starts a worker on each, returning once
// every worker serves (or the first setup error, with everything undone).
func startUring(s *Server, n int) (*uringServer, *net.TCPAddr, error) {
	cpus, err := engine.AllowedCPUs()
	if err != nil {
		return nil, nil, err
	}
	fds, addr, err := s.listen(n) // listeners.go: opened, or Config.Listeners
	if err != nil {
		return nil, nil, err
	}
	n = len(fds)
	if !s.cfg.KeepGOMAXPROCS && runtime.GOMAXPROCS(0) < n+1 {
		runtime.GOMAXPROCS(n + 1) // a spare P: workers hold theirs while they wait (Config.KeepGOMAXPROCS)
	}
	u := &uringServer{fin: make(chan struct{})}
	// u.mu is held until every worker serves: a worker that failed its
	// setup reported to this function, which handles it, and must not be
	// recorded as what stopped the server (loopStopped).
	u.mu.Lock()
	defer u.mu.Unlock()
	ws := make([]*worker.Worker, 0, len(fds))
	ready := make(chan error, len(fds))
	for i, fd := range fds {
		var w *worker.Worker
		if w, err = worker.New(s.workerConfig(i, cpus[i%len(cpus)], fd)); err != nil {
			break
		}
		ws = append(ws, w)
		go func() {
			if err := w.Run(ready); err != nil {
				u.loopStopped(w, err)
			}
		}()
		if err = <-ready; err != nil {
			break
		}
	}
	if err != nil {
		for _, w := range ws {
			w.Shutdown(true)
			w.Close()
		}
		for _, fd := range fds[len(ws):] {
			closeFD(fd)
		}
		return nil, nil, err
	}
	u.ws = ws
	go u.reap()
	return u, addr, nil
}

func (s *Server) workerConfig(id, cpu, fd int) worker.Config {
	c := &s.cfg
	return worker.Config{
		Config: s.engineConfig(&loopMux{rt: &s.mux}),
		ID:     id, CPU: cpu, Listener: fd,
		Tick:              c.Tick,
		RingEntries:       uint32(c.RingEntries),
		RecvBufferSize:    c.RecvBufferSize,
		RecvBuffers:       c.RecvBuffers,
		DisableMultishot:  c.DisableMultishot,
		DisableBufRing:    c.DisableBufRing,
		DisableShutdownOp: c.DisableShutdownOp,
		RawWait:           !c.KeepGOMAXPROCS,
		TLSAcceptor:       s.tlsAcceptor,
		ConnHandler:       &s.mux,
		MaxHandshakes:     c.MaxHandshakesPerWorker,
		KTLS:              s.kernelTLS(),
	}
}

// loopStopped records err as what stopped the server, if w was serving
// (see startUring).
func (u *uringServer) loopStopped(w *worker.Worker, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.runErr == nil && slices.Contains(u.ws, w) {
		u.runErr = err
	}
}

// reap waits for every worker to exit, then releases them.
func (u *uringServer) reap() {
	for _, w := range u.ws {
		<-w.Done()
	}
	u.mu.Lock()
	for _, w := range u.ws {
		w.Close()
	}
	u.closed = true
	u.mu.Unlock()
	close(u.fin)
}

func (u *uringServer) shutdown(force bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return // reap closed the workers' eventfds
	}
	for _, w := range u.ws {
		w.Shutdown(force)
	}
}

func (u *uringServer) kind() Engine          { return EngineIOUring }
func (u *uringServer) workers() int          { return len(u.ws) }
func (u *uringServer) done() <-chan struct{} { return u.fin }

func (u *uringServer) err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.runErr
}

func (u *uringServer) features() uring.Features { return u.ws[0].Features() }

func (u *uringServer) stats() []WorkerStats {
	st := make([]WorkerStats, len(u.ws))
	for i, w := range u.ws {
		st[i] = w.Stats()
	}
	return st
}
