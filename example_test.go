package uringd_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/uringd/uringd"
)

// Embedding uringd: a config, a route with net/http's pattern syntax, Start,
// and Shutdown. EngineAuto serves on io_uring, or on Go's netpoller where
// io_uring cannot be set up (a container's seccomp profile), with the same
// answer.
func Example() {
	srv, err := uringd.New(uringd.Config{Addr: "127.0.0.1:0", Workers: 1, Engine: uringd.EngineAuto})
	if err != nil {
		panic(err)
	}
	srv.HandleFunc("GET /hello/{name}", func(w *uringd.Response, r *uringd.Request) {
		w.SetContentType("text/plain")
		w.WriteString("Hello, ")
		w.Write(r.PathValue("name")) // a view into the request: valid during the call only
	})
	if err := srv.Start(); err != nil { // or srv.ListenAndServe()
		panic(err)
	}
	defer srv.Shutdown(context.Background())

	resp, err := http.Get("http://" + srv.Addr().String() + "/hello/gopher")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK Hello, gopher
}
