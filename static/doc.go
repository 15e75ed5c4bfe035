// Package static serves a directory tree over uringd: GET and HEAD with
// Content-Type by extension, index.html for directories, an optional escaped
// listing, Last-Modified/ETag revalidation (304), single byte ranges (206,
// 416), If-Range, and optionally precompressed siblings (.br, .zst, .gz).
//
// Safety: the request path is percent-decoded exactly once and refused
// (404) if it has "." or ".." segments, encoded slashes or backslashes, NUL
// or other control bytes. The remaining name is opened relative to the
// root directory's file descriptor with openat2(RESOLVE_BENEATH), so the
// kernel itself refuses any resolution — a ".." or a symlink, absolute or
// relative — that would leave the root (os.Root is the fallback where
// openat2 is unavailable, e.g. under old seccomp profiles). Only regular
// files are served; FIFOs and devices are opened O_NONBLOCK and refused.
//
// Speed: files up to Config.MaxCachedFile are kept in a byte-bounded cache
// (clock eviction) of prepared responses — body, Content-Type, ETag and
// Last-Modified made once — so a hit is a map lookup and a copy into the
// connection's output buffer, with no syscall and no allocation on the
// worker (alloc_test.go). The cache is revalidated off the worker by a
// background goroutine every Config.Revalidate (a stat per entry), never by a
// stat on the worker thread. Everything else — resolving a name, filling the
// cache, listing, streaming a large file — blocks, so it is handed to the
// server's blocking pool with uringd.Offload (blocking.go): a large file is
// read in Config.ChunkSize preads and streamed with the server's
// per-connection backpressure, so a slow client holds at most
// uringd.Config.MaxPendingOutput plus a chunk, never the file.
//
// Ranges: one range per request ("a-b", "a-", "-n") is answered 206; a
// request for several ranges gets the whole file (200), which RFC 9110
// §14.2 allows and which spares multipart/byteranges.
//
// Precompressed files (Config.Precompressed, off by default): "f.br",
// "f.zst" and "f.gz" beside "f" are sent to clients whose Accept-Encoding
// takes them, as nginx's gzip_static does: Content-Encoding, the original's
// Content-Type, an ETag per coding, Vary: Accept-Encoding, and ranges and
// conditionals over the encoded bytes. Siblings are cached in the
// original's entry and revalidated with it (precompressed.go, encoding.go).
//
// Mount it with Handler.Mount, or run `uringd -root DIR`.
package static
