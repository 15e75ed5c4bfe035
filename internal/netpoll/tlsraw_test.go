package netpoll

import (
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRawConnFollowsRecords: rawConn over a socket reports part of a record
// (of its header, or of its body) as pending and a record boundary as not,
// however the records are cut into reads; wake ends a read waiting at a
// boundary and leaves one waiting for the rest of a record alone; a byte
// that came before the shutdown makes the connection not fresh.
func TestRawConnFollowsRecords(t *testing.T) {
	server, client := tcpPair(t)
	var draining atomic.Bool
	r := newRawConn(server, []byte{23, 3}, &draining) // a PROXY read's leftover: the start of a header
	require.NoError(t, r.SetReadDeadline(time.Now().Add(10*time.Second)))
	buf := make([]byte, 64)
	read := func(want int) {
		t.Helper()
		got := 0
		for got < want {
			n, err := r.Read(buf)
			require.NoError(t, err)
			got += n
		}
		require.Equal(t, want, got)
	}

	read(2) // the prefix, before the socket
	require.True(t, r.InputPending(), "part of a header")
	require.True(t, r.receivedEarly())
	// The header's rest (a 4-byte body), its body but one byte.
	_, err := client.Write([]byte{3, 0, 4, 'a', 'b', 'c'})
	require.NoError(t, err)
	read(6)
	require.True(t, r.InputPending(), "part of a body")
	draining.Store(true)
	r.wake() // part of a record is in: the read waits for the rest
	done := make(chan error, 1)
	go func() {
		b := make([]byte, 64)
		for got := 0; got < 1+5+3; {
			n, err := r.Read(b)
			if err != nil {
				done <- err
				return
			}
			got += n
		}
		done <- nil
	}()
	// The last byte, then a whole record (a KeyUpdate's size) in one write.
	_, err = client.Write([]byte{'d', 23, 3, 3, 0, 3, 'k', 'u', 'p'})
	require.NoError(t, err)
	require.NoError(t, <-done)
	require.False(t, r.InputPending(), "at a record boundary")

	r.wake() // between records: the read ends at once
	_, err = r.Read(buf)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	// A fresh connection's first byte after the shutdown began: still fresh.
	server2, client2 := tcpPair(t)
	r2 := newRawConn(server2, nil, &draining)
	_, err = client2.Write([]byte{22})
	require.NoError(t, err)
	_, err = r2.Read(buf)
	require.NoError(t, err)
	require.False(t, r2.receivedEarly())
	require.True(t, r2.InputPending())
}
