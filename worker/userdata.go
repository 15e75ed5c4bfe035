package worker

import "fmt"

// op names the operation a CQE completes. It is the top byte of user_data.
type op uint8

const (
	opInvalid       op = iota // zero user_data: never submitted by the worker
	opAccept                  // accept on the listener; slot unused
	opRecv                    // recv on a connection
	opSend                    // send of a connection's output
	opCancel                  // async cancel of a connection's recv/send
	opShutdown                // shutdown(SHUT_WR) of a closing connection (lingering close)
	opClose                   // close of a connection's fd; frees the slot
	opTimer                   // timer wheel tick; slot unused
	opWakeup                  // eventfd read: another goroutine wants the worker's attention
	opProvide                 // classic PROVIDE_BUFFERS completion; slot unused
	opReject                  // 503 + close of a connection over the limit; slot = fd
	opListenerClose           // cancel / close of the listener at shutdown
	opKick                    // eventfd write waking the offload pool's dispatcher (wake.go)
	opCount
)

var opNames = [opCount]string{"invalid", "accept", "recv", "send", "cancel", "shutdown",
	"close", "timer", "wakeup", "provide-buffers", "reject", "listener-close", "kick"}

func (o op) String() string {
	if o < opCount {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// userData routes a CQE to its owner without lookup tables or pointers:
//
//	| 63..56 op | 55..32 generation (24 bits) | 31..0 connection slot |
//
// The generation is the slot's generation when the operation was submitted. A
// slot's generation is bumped when it is freed, so a CQE that arrives for a
// slot that was closed and reused carries an old generation and is dropped.
type userData uint64

const genMask = 1<<24 - 1

func pack(o op, gen, slot uint32) userData {
	return userData(o)<<56 | userData(gen&genMask)<<32 | userData(slot)
}

func (u userData) op() op       { return op(u >> 56) }
func (u userData) gen() uint32  { return uint32(u>>32) & genMask }
func (u userData) slot() uint32 { return uint32(u) }

func (u userData) String() string {
	return fmt.Sprintf("%v gen=%d slot=%d", u.op(), u.gen(), u.slot())
}
