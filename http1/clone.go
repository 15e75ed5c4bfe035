package http1

// Clone returns a deep copy of r whose views all point into one fresh
// allocation, so it stays valid after the buffer r points into is reused
// (after the handler returns, or when a request is handed to another
// goroutine). It allocates: it is for the rare path, never the per-request one.
func (r *Request) Clone() Request {
	n := len(r.Method) + len(r.Target) + len(r.Path) + len(r.Query) + len(r.Host) + len(r.Body)
	for _, h := range r.Headers {
		n += len(h.Name) + len(h.Value)
	}
	buf := make([]byte, 0, n)
	cp := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	c := *r
	c.Method = cp(r.Method)
	c.Target = cp(r.Target)
	c.Path = cp(r.Path)
	c.Query = cp(r.Query)
	c.Host = cp(r.Host)
	c.Body = cp(r.Body)
	c.Headers = make([]Header, len(r.Headers))
	for i, h := range r.Headers {
		c.Headers[i] = Header{Name: cp(h.Name), Value: cp(h.Value)}
	}
	return c
}
