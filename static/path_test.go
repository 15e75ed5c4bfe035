package static

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCleanName(t *testing.T) {
	ok := []struct {
		rel, name string
		dir       bool
	}{
		{"", "", true},
		{"/", "", true},
		{"/a.txt", "a.txt", false},
		{"/a/b/", "a/b", true},
		{"//a//b", "a/b", false},
		{"/a%20b", "a b", false},
		{"/%41%62c", "Abc", false},
		{"/.well-known/x", ".well-known/x", false},
		{"/..a/b..", "..a/b..", false},
		{"/a+b", "a+b", false},
		{"/%252e", "%2e", false},
	}
	for _, tc := range ok {
		name, dir, good := cleanName(nil, []byte(tc.rel))
		if assert.True(t, good, tc.rel) {
			assert.Equal(t, tc.name, string(name), tc.rel)
			assert.Equal(t, tc.dir, dir, tc.rel)
		}
	}
	bad := []string{
		"/..", "/../x", "/a/../b", "/.", "/./a", "/a/.", "/%2e", "/%2e%2e", "/.%2E",
		"/a%2fb", "/a%2Fb", "/a\\b", "/a%5cb", "/a%00", "/a\x00", "/a%0a", "/a\x01",
		"/a%7f", "/%", "/%4", "/%4g", "/%g4",
	}
	for _, rel := range bad {
		_, _, good := cleanName(nil, []byte(rel))
		assert.False(t, good, "%q", rel)
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"/a/b", "/%2e%2e/x", "//a", "/a%2fb", "/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		name, _, ok := cleanName(nil, []byte(rel))
		if !ok {
			return
		}
		s := string(name)
		if len(s) > 0 && s[0] == '/' {
			t.Fatalf("%q -> absolute %q", rel, s)
		}
		for _, seg := range splitSlash(s) {
			if seg == "" && s != "" || seg == "." || seg == ".." {
				t.Fatalf("%q -> bad segment in %q", rel, s)
			}
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == '\\' || s[i] == 0x7f {
				t.Fatalf("%q -> byte %#x in %q", rel, s[i], s)
			}
		}
	})
}

func splitSlash(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
