package static

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxNotFound bounds Config.NotFound: the page is held in memory and
// copied into every 404.
const maxNotFound = 1 << 20

// loadNotFound reads Config.NotFound, resolved under the root like any
// request (nothing outside it), once: a 404 is then a copy on the worker,
// with no syscall, whatever path took it there.
func (h *Handler) loadNotFound() error {
	name := strings.TrimPrefix(h.cfg.NotFound, "/")
	if name == "" {
		return nil
	}
	fd, fi, err := h.root.open(name)
	if err != nil {
		return fmt.Errorf("static: Config.NotFound %q: %w", h.cfg.NotFound, err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if !fi.isReg {
		return fmt.Errorf("static: Config.NotFound %q is not a regular file", h.cfg.NotFound)
	}
	body, err := io.ReadAll(io.LimitReader(f, maxNotFound+1))
	if err != nil {
		return fmt.Errorf("static: Config.NotFound %q: %w", h.cfg.NotFound, err)
	}
	if len(body) > maxNotFound {
		return fmt.Errorf("static: Config.NotFound %q is larger than %d bytes", h.cfg.NotFound, maxNotFound)
	}
	h.notFound, h.notFoundType = body, contentType(name)
	return nil
}

// notFoundPage writes the 404 answer: Config.NotFound's page, else a text.
func (h *Handler) notFoundPage(w *Response) {
	if h.notFound == nil {
		plain(w, 404)
		return
	}
	w.SetStatus(404)
	w.SetContentType(h.notFoundType)
	_, _ = w.Write(h.notFound)
}
