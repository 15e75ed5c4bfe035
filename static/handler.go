package static

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uringd/uringd"
)

// Request and Response are uringd's.
type (
	Request  = uringd.Request
	Response = uringd.Response
)

// Defaults for Config fields left zero.
const (
	DefaultIndex         = "index.html"
	DefaultMaxCachedFile = 64 << 10
	DefaultCacheBytes    = 64 << 20
	DefaultRevalidate    = time.Second
	DefaultChunkSize     = 64 << 10
)

// Config configures a Handler.
type Config struct {
	// Root is the directory served. Nothing outside it is ever served.
	Root string
	// Prefix is the URL path the directory is mounted at ("/static/");
	// it is stripped before the rest is looked up under Root. Default "/".
	Prefix string
	// Index is the file served for a directory. Default "index.html".
	Index string
	// Listing enables an HTML listing of directories without an index.
	// Off by default: a directory without an index is 404.
	Listing bool
	// NotFound, if set, is a file under Root ("404.html") whose contents
	// answer every 404, with the Content-Type of its extension. New reads
	// it once (at most 1 MiB): a change needs a new Handler.
	NotFound string
	// CacheControl, if set, is sent as Cache-Control with every file
	// (e.g. "public, max-age=3600").
	CacheControl string

	// Precompressed serves "f.br", "f.zst" and "f.gz" beside a file "f" to
	// clients whose Accept-Encoding takes them, as nginx's gzip_static does
	// (precompressed.go says which siblings count). Off by default: each
	// file then costs three more opens on a miss and three more stats per
	// revalidation.
	Precompressed bool

	// MaxCachedFile is the largest file kept in the response cache.
	// Negative disables the cache. Default 64 KiB.
	MaxCachedFile int64
	// CacheBytes bounds the total size of the cached bodies. Default 64 MiB.
	CacheBytes int64
	// Revalidate is how often the background goroutine stats every cached
	// file and re-reads those that changed. Default 1s. A changed file can
	// be served stale for up to this long.
	Revalidate time.Duration
	// ChunkSize is the read size when streaming a file that is not cached:
	// the memory a download holds. Default 64 KiB.
	ChunkSize int

	// Logger receives read errors. Default slog.Default().
	Logger *slog.Logger

	// forceFallback resolves names with os.Root instead of openat2 (tests).
	forceFallback bool
}

// Handler serves files under Config.Root. It is safe for use by several
// workers at once. Close it to stop its revalidator.
type Handler struct {
	cfg    Config
	prefix string // Config.Prefix without its trailing '/' ("" for "/")
	root   *root
	cache  *cache // nil when disabled
	log    *slog.Logger

	notFound     []byte // Config.NotFound's contents (notfound.go); nil: a text
	notFoundType string

	blocking blockingHandler // h itself, as the uringd.BlockingHandler for misses
	streamed atomic.Int64    // file bytes handed to stream writes (tests: memory bound)

	stop     chan struct{}
	wg       sync.WaitGroup
	closeErr error
	once     sync.Once
}

// New opens cfg.Root and starts the cache revalidator.
func New(cfg Config) (*Handler, error) {
	if cfg.Root == "" {
		return nil, errors.New("static: Config.Root is empty")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/"
	}
	if cfg.Prefix[0] != '/' || strings.HasPrefix(cfg.Prefix, "//") {
		return nil, fmt.Errorf("static: Config.Prefix %q must start with a single '/'", cfg.Prefix)
	}
	if cfg.Index == "" {
		cfg.Index = DefaultIndex
	}
	if strings.ContainsAny(cfg.Index, "/\\") || cfg.Index == "." || cfg.Index == ".." {
		return nil, fmt.Errorf("static: Config.Index %q must be a plain file name", cfg.Index)
	}
	if strings.ContainsFunc(cfg.CacheControl, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return nil, errors.New("static: Config.CacheControl has a control character")
	}
	setDefault(&cfg.MaxCachedFile, DefaultMaxCachedFile)
	setDefault(&cfg.CacheBytes, DefaultCacheBytes)
	setDefault(&cfg.Revalidate, DefaultRevalidate)
	setDefault(&cfg.ChunkSize, DefaultChunkSize)
	if cfg.Revalidate < time.Millisecond || cfg.ChunkSize < 512 || cfg.ChunkSize > 16<<20 {
		return nil, fmt.Errorf("static: Config.Revalidate (%v) must be >= 1ms and ChunkSize (%d) in [512, 16 MiB]",
			cfg.Revalidate, cfg.ChunkSize)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r, err := openRoot(cfg.Root, cfg.forceFallback)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:    cfg,
		prefix: strings.TrimSuffix(cfg.Prefix, "/"),
		root:   r,
		log:    cfg.Logger,
		stop:   make(chan struct{}),
	}
	h.blocking = blockingHandler{h}
	if err := h.loadNotFound(); err != nil {
		r.close()
		return nil, err
	}
	if cfg.MaxCachedFile >= 0 && cfg.CacheBytes > 0 {
		h.cache = newCache(cfg.CacheBytes)
		h.wg.Add(1)
		go h.revalidator()
	}
	return h, nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Mount registers h on s for every method at its prefix (the handler
// answers 405 itself, with Allow: GET, HEAD), and at the prefix without its
// trailing slash, which redirects like a directory.
func (h *Handler) Mount(s *uringd.Server) {
	s.Handle(h.prefix+"/", h)
	if h.prefix != "" {
		s.Handle(h.prefix, h)
	}
}

// Close stops the revalidator and closes the root. In-flight requests must
// be over (shut the server down first).
func (h *Handler) Close() error {
	h.once.Do(func() {
		close(h.stop)
		h.wg.Wait()
		h.closeErr = h.root.close()
	})
	return h.closeErr
}

// CacheStats reports the number of cached files and their total bytes.
func (h *Handler) CacheStats() (files int, bytes int64) {
	if h.cache == nil {
		return 0, 0
	}
	return h.cache.stats()
}

// ServeHTTP serves a file. A cache hit is answered here, on the worker,
// with no syscall and no allocation. Everything else — resolving the name,
// reading a file into the cache, streaming a large one, listing a
// directory — makes blocking syscalls, so it is offloaded to the server's
// blocking pool (serveBlocking); only when the request cannot be offloaded
// (ServeHTTP called outside a server) is it answered inline.
func (h *Handler) ServeHTTP(w *Response, r *Request) {
	var buf [512]byte
	name, dir, status := h.route(r, buf[:0])
	if status != 0 {
		h.answerStatus(w, r, status)
		return
	}
	if h.cache != nil {
		key := name
		if dir {
			key = append(key, '/') // name keeps its length; key shares buf
		}
		if e := h.cache.get(key); e != nil {
			var hd reqHeaders
			hd.pick(r)
			rp, body := e.pick(r)
			h.serveBytes(w, &hd, e.ctype, rp, body)
			return
		}
	}
	if uringd.Offload(w, r, h.blocking) {
		return
	}
	var hd reqHeaders
	hd.pick(r)
	h.serveInline(w, r, &hd, string(name), dir)
}

// route checks the method and maps the request path to a clean name under
// the root (appended to buf). status != 0 is the answer instead: 405 for a
// method other than GET and HEAD, 301 for the mount point without its
// slash, 404 for a path outside the mount or one cleanName refuses.
func (h *Handler) route(r *Request, buf []byte) (name []byte, dir bool, status int) {
	if string(r.Method) != "GET" && string(r.Method) != "HEAD" {
		return nil, false, 405
	}
	if len(r.Path) < len(h.prefix) || string(r.Path[:len(h.prefix)]) != h.prefix {
		return nil, false, 404
	}
	rel := r.Path[len(h.prefix):]
	switch {
	case len(rel) == 0: // "/static" for a mount at "/static/"
		return nil, false, 301
	case rel[0] != '/': // "/staticx" under the "/static" prefix
		return nil, false, 404
	}
	name, dir, ok := cleanName(buf, rel)
	if !ok {
		return nil, false, 404
	}
	return name, dir, 0
}
