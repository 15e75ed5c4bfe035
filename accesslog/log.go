package accesslog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// bufSize is each of a sink's two buffers: lines accumulate in one while
// the writer writes the other out. One holds about 5,000 lines of 200
// bytes, which a worker at 500,000 requests/s fills in 10 ms: the writer
// is kicked at half full (Sink.Log), not only every flushEvery. With 256 KiB
// a CI run at full speed dropped 17 JSON lines of 10,000 while the
// writer's goroutine waited for a CPU; 2 MiB per worker is the price.
const bufSize = 1 << 20

// flushEvery is how long a line waits, at most, in a quiet sink.
const flushEvery = 200 * time.Millisecond

// Log is an access log: a destination, a format, the sinks the workers
// write to, and the goroutine that writes them out.
type Log struct {
	format Format
	path   string // "" when the destination is a caller's io.Writer
	logger *slog.Logger

	mu    sync.Mutex // guards sinks and out
	sinks []*Sink
	out   io.Writer
	file  *os.File // out, when the Log opened it (Reopen, Close)

	kick     chan struct{} // a sink is half full
	reopen   chan chan error
	stop     chan struct{}
	stopped  chan struct{}
	dropped  atomic.Uint64 // lines dropped since the start
	lastWarn time.Time     // writer goroutine only
	warned   uint64        // dropped count at the last warning (writer only)
	werr     error         // the last write error, logged once (writer only)
}

// Open opens path for appending (created 0644 if missing; "-" is standard
// output) and starts the writer.
func Open(path string, format Format, logger *slog.Logger) (*Log, error) {
	l := newLog(format, logger)
	if path == "-" {
		l.out = os.Stdout
	} else {
		f, err := openFile(path)
		if err != nil {
			return nil, err
		}
		l.path, l.file, l.out = path, f, f
	}
	go l.run()
	return l, nil
}

// New writes the log to w (tests, embedding); Reopen is then a no-op.
func New(w io.Writer, format Format, logger *slog.Logger) *Log {
	l := newLog(format, logger)
	l.out = w
	go l.run()
	return l
}

func newLog(format Format, logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{format: format, logger: logger, kick: make(chan struct{}, 1),
		reopen: make(chan chan error), stop: make(chan struct{}), stopped: make(chan struct{})}
}

func openFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return f, nil
}

// Sink returns a new sink for one worker (or one netpoll accept loop).
func (l *Log) Sink() *Sink {
	s := &Sink{l: l, cur: make([]byte, 0, bufSize), spare: make([]byte, 0, bufSize)}
	l.mu.Lock()
	l.sinks = append(l.sinks, s)
	l.mu.Unlock()
	return s
}

// Dropped reports the lines dropped because the destination could not keep up.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// Reopen closes and reopens the file by its path, after writing out what
// the sinks hold: logrotate renames the file, then signals (SIGUSR1), and
// the lines from then on go to a new file of the old name. A path that
// cannot be opened keeps the old file and returns why.
func (l *Log) Reopen() error {
	ch := make(chan error, 1)
	select {
	case l.reopen <- ch:
		return <-ch
	case <-l.stopped:
		return errors.New("access log: closed")
	}
}

// Close writes out what the sinks hold, stops the writer and closes the
// file. Lines logged after Close are dropped.
func (l *Log) Close() error {
	select {
	case <-l.stopped:
		return nil
	default:
	}
	close(l.stop)
	<-l.stopped
	if l.file != nil {
		return l.file.Close()
	}
	return nil
}

// run is the writer goroutine.
func (l *Log) run() {
	defer close(l.stopped)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.kick:
		case ch := <-l.reopen:
			l.flush()
			ch <- l.doReopen()
			continue
		case <-l.stop:
			l.flush()
			l.mu.Lock()
			for _, s := range l.sinks {
				s.close()
			}
			l.mu.Unlock()
			l.flush()
			return
		}
		l.flush()
	}
}

// flush writes out every sink's lines, one sink at a time: the sink's
// current buffer is swapped for its spare under the sink's lock, and
// written without it.
func (l *Log) flush() {
	l.mu.Lock()
	sinks := l.sinks
	l.mu.Unlock()
	for _, s := range sinks {
		b := s.take()
		if b == nil {
			continue
		}
		if _, err := l.out.Write(b); err != nil && l.werr == nil {
			l.werr = err
			l.logger.Error("access log: write failed; lines are lost until it works again", "err", err)
		} else if err == nil {
			l.werr = nil
		}
		s.give(b[:0])
	}
	l.warnDropped()
}

// warnDropped logs, at most every 10 s, how many lines were dropped.
func (l *Log) warnDropped() {
	d := l.dropped.Load()
	if d == l.warned || time.Since(l.lastWarn) < 10*time.Second {
		return
	}
	l.logger.Warn("access log: lines dropped, the destination cannot keep up", "dropped", d-l.warned, "total", d)
	l.warned, l.lastWarn = d, time.Now()
}

func (l *Log) doReopen() error {
	if l.path == "" {
		return nil
	}
	f, err := openFile(l.path)
	if err != nil {
		l.logger.Error("access log: reopen failed; still writing to the old file", "err", err)
		return err
	}
	old := l.file
	l.mu.Lock()
	l.file, l.out = f, f
	l.mu.Unlock()
	old.Close()
	return nil
}

// Sink is one worker's part of a Log. Log is safe for concurrent use (a
// netpoll accept loop's connections, and the pool goroutines that answer an
// io_uring worker's blocking requests, share it), never blocks on the
// destination and never allocates.
type Sink struct {
	l      *Log
	mu     sync.Mutex
	cur    []byte // lines not yet taken by the writer
	spare  []byte // nil while the writer writes it
	closed bool
	ts     timeCache
	kicked bool // the writer was kicked for cur since it last took it
}

// Log appends e's line; if the sink's buffer is full because the writer is
// behind, the line is dropped and counted.
func (s *Sink) Log(e *Entry) {
	s.mu.Lock()
	if s.closed || cap(s.cur)-len(s.cur) < maxLine {
		s.mu.Unlock()
		s.l.dropped.Add(1)
		return
	}
	s.cur = appendEntry(s.cur, s.l.format, e, &s.ts)
	kick := !s.kicked && len(s.cur) > cap(s.cur)/2
	if kick {
		s.kicked = true
	}
	s.mu.Unlock()
	if kick {
		select {
		case s.l.kick <- struct{}{}:
		default:
		}
	}
}

// take hands the writer the lines so far, or nil if there are none or the
// spare is still being written (cannot happen: one writer).
func (s *Sink) take() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) == 0 || s.spare == nil {
		return nil
	}
	b := s.cur
	s.cur, s.spare, s.kicked = s.spare, nil, false
	return b
}

// give returns a written buffer as the spare.
func (s *Sink) give(b []byte) {
	s.mu.Lock()
	s.spare = b
	s.mu.Unlock()
}

func (s *Sink) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}
