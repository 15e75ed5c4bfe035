// Command fileserver is the net/http peer of the static-file benchmark:
// http.FileServer over a directory (run it with GOMAXPROCS=1 for the
// one-core comparison).
//
//	fileserver -addr 127.0.0.1:8081 -root DIR
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	root := flag.String("root", ".", "directory to serve")
	flag.Parse()
	log.Fatal(http.ListenAndServe(*addr, http.FileServer(http.Dir(*root))))
}
