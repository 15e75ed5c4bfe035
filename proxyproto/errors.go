package proxyproto

import "errors"

// ErrIncomplete means the bytes so far are a valid prefix of a PROXY header:
// read more and call Parse again with the same bytes plus the new ones.
var ErrIncomplete = errors.New("proxyproto: incomplete PROXY header")

// ErrNotProxy means the bytes cannot begin a PROXY header of either version.
var ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")

// Error is a PROXY header that breaks the spec. The connection must be
// closed; Reason names the rule that was broken.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "proxyproto: " + e.Reason }

// The errors are package-level pointers so that returning one never allocates.
var (
	errV1Space      = &Error{"v1: expected exactly one space after \"PROXY\""}
	errV1Proto      = &Error{"v1: protocol is not TCP4, TCP6 or UNKNOWN"}
	errV1ProtoSpace = &Error{"v1: expected exactly one space after the protocol"}
	errV1TooLong    = &Error{"v1: no CRLF within 107 bytes"}
	errV1BareLF     = &Error{"v1: LF without CR (the line must end in CRLF)"}
	errV1BareCR     = &Error{"v1: CR not followed by LF"}
	errV1Fields     = &Error{"v1: line ends before the two addresses and two ports"}
	errV1Empty      = &Error{"v1: empty field (fields are separated by exactly one space)"}
	errV1Trailing   = &Error{"v1: expected CRLF right after the destination port"}
	errV1Src4       = &Error{"v1: source address is not dotted-decimal IPv4 (4 numbers 0-255, no leading zeros)"}
	errV1Dst4       = &Error{"v1: destination address is not dotted-decimal IPv4 (4 numbers 0-255, no leading zeros)"}
	errV1Src6       = &Error{"v1: source address is not a textual IPv6 address"}
	errV1Dst6       = &Error{"v1: destination address is not a textual IPv6 address"}
	errV1SrcPort    = &Error{"v1: source port is not a decimal number 0-65535 without leading zeros"}
	errV1DstPort    = &Error{"v1: destination port is not a decimal number 0-65535 without leading zeros"}

	errV2Version   = &Error{"v2: version is not 2"}
	errV2Command   = &Error{"v2: command is neither LOCAL (0) nor PROXY (1)"}
	errV2Family    = &Error{"v2: address family is not UNSPEC, INET, INET6 or UNIX"}
	errV2Transport = &Error{"v2: transport protocol is not UNSPEC, STREAM or DGRAM"}
	errV2TooLong   = &Error{"v2: header longer than MaxHeaderLen (536) bytes"}
	errV2Short     = &Error{"v2: address length too short for the address family"}
	errV2TLV       = &Error{"v2: TLV runs past the end of the header"}
	errV2CRCLen    = &Error{"v2: CRC32C TLV value is not 4 bytes"}
	errV2CRC       = &Error{"v2: CRC32C checksum does not match the header"}
)
