package static

import "strings"

// mimeTypes maps a lower-case extension (with the dot) to its Content-Type.
// Built in rather than read from /etc/mime.types (as mime.TypeByExtension
// does) so the answer does not depend on the host.
var mimeTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".csv":         "text/csv; charset=utf-8",
	".xml":         "application/xml",
	".rss":         "application/rss+xml",
	".atom":        "application/atom+xml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".bmp":         "image/bmp",
	".tif":         "image/tiff",
	".tiff":        "image/tiff",
	".pdf":         "application/pdf",
	".wasm":        "application/wasm",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".eot":         "application/vnd.ms-fontobject",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".ogv":         "video/ogg",
	".mov":         "video/quicktime",
	".mp3":         "audio/mpeg",
	".ogg":         "audio/ogg",
	".oga":         "audio/ogg",
	".wav":         "audio/wav",
	".flac":        "audio/flac",
	".m4a":         "audio/mp4",
	".aac":         "audio/aac",
	".zip":         "application/zip",
	".gz":          "application/gzip",
	".tgz":         "application/gzip",
	".bz2":         "application/x-bzip2",
	".xz":          "application/x-xz",
	".zst":         "application/zstd",
	".tar":         "application/x-tar",
	".7z":          "application/x-7z-compressed",
	".wat":         "text/plain; charset=utf-8",
}

// defaultType is the answer for unknown extensions: it makes browsers
// download rather than sniff and render.
const defaultType = "application/octet-stream"

// contentType returns the Content-Type for a file name by its extension.
// It runs on cache fills only, so the lower-casing may allocate.
func contentType(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || strings.IndexByte(name[i:], '/') >= 0 {
		return defaultType
	}
	if t, ok := mimeTypes[strings.ToLower(name[i:])]; ok {
		return t
	}
	return defaultType
}
