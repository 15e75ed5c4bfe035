package static

import (
	"html"
	"net/url"
	"os"
	"slices"
	"strings"
)

// listing renders a directory (Config.Listing) as a minimal HTML page:
// names sorted, HTML-escaped in the text and path-escaped in the links, so
// a file named `"><script>` is shown, not run. It takes ownership of fd.
// Runs off the worker (ReadDir is blocking).
func listing(fd int, urlPath string) ([]byte, error) {
	f := os.NewFile(uintptr(fd), urlPath)
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	title := html.EscapeString(urlPath)
	b.WriteString("<!doctype html>\n<meta charset=\"utf-8\">\n<title>Index of ")
	b.WriteString(title)
	b.WriteString("</title>\n<h1>Index of ")
	b.WriteString(title)
	b.WriteString("</h1>\n<pre>\n<a href=\"../\">../</a>\n")
	for _, n := range names {
		link := (&url.URL{Path: n}).EscapedPath()
		if strings.HasPrefix(link, "/") || strings.Contains(strings.SplitN(link, "/", 2)[0], ":") {
			link = "./" + link // never a scheme-like or absolute href
		}
		b.WriteString("<a href=\"")
		b.WriteString(html.EscapeString(link))
		b.WriteString("\">")
		b.WriteString(html.EscapeString(n))
		b.WriteString("</a>\n")
	}
	b.WriteString("</pre>\n")
	return []byte(b.String()), nil
}
