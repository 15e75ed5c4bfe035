// Package accesslog writes one line per request, in nginx's combined format
// (with the request time appended, as nginx's $request_time) or as JSON,
// without slowing the event loops that serve the requests: each worker
// appends to its own Sink, which never blocks and never allocates, and one
// goroutine per Log writes the sinks out. When the file cannot keep up
// (a slow or full disk) lines are dropped and counted, never buffered without
// bound. Reopen, on SIGUSR1 in the binary, follows logrotate's convention.
//
// The package has no kernel or engine code: the engines fill an Entry.
package accesslog
