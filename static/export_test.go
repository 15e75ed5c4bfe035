package static

// ForceFallback makes New resolve names through os.Root instead of openat2.
func ForceFallback(c *Config) { c.forceFallback = true }

// UsesFallback reports whether h resolves through os.Root.
func (h *Handler) UsesFallback() bool { return h.root.osr != nil }

// Streamed reports the file bytes streamed to clients so far.
func (h *Handler) Streamed() int64 { return h.streamed.Load() }
