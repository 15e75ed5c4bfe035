package static

// ForceFallback makes New resolve names through os.Root instead of openat2.
func ForceFallback(c *Config) { c.forceFallback = true }

// UsesFallback reports whether h resolves through os.Root.
func (h *Handler) UsesFallback() bool { return h.root.osr != nil }
