package static_test

import (
	"log"

	"github.com/uringd/uringd"
	"github.com/uringd/uringd/static"
)

// Serve ./public under /static/, cached for an hour by browsers.
func Example() {
	files, err := static.New(static.Config{
		Root:         "./public",
		Prefix:       "/static/",
		CacheControl: "public, max-age=3600",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer files.Close()
	srv, err := uringd.New(uringd.Config{Addr: ":8080"})
	if err != nil {
		log.Fatal(err)
	}
	files.Mount(srv) // "/static/..." and the redirect of "/static"
	log.Fatal(srv.ListenAndServe())
}
