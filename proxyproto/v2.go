package proxyproto

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// v2Sig is the 12-byte v2 signature. It contains a NUL and starts with
// CRLFCRLF so that no text protocol parser accepts it.
const v2Sig = "\r\n\r\n\x00\r\nQUIT\n"

const (
	v2FixedLen = 16 // signature, ver_cmd, fam, len
	tlvHdrLen  = 3  // type, length_hi, length_lo
	tlvCRC32C  = 0x03
)

// addrLen is the address block size of each family: two addresses and, for
// INET and INET6, two ports. UNIX carries two 108-byte paths.
var addrLen = [...]int{FamilyUnspec: 0, FamilyInet: 12, FamilyInet6: 36, FamilyUnix: 216}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// zeroCRC stands in for the checksum field. It is a package variable, never
// written, because crc32.Update reaches its implementation through a function
// value and so a local array would escape (an allocation per header).
var zeroCRC [4]byte

// parseV2 parses the binary header. Everything the fixed 16 bytes can
// refuse (version, command, family, transport, a length over the bound or
// under the family's address size) is refused as soon as those bytes are in,
// before waiting for the rest.
func parseV2(buf []byte) (Header, int, error) {
	if m := matchPrefix(buf, v2Sig); m < 0 {
		return Header{}, 0, ErrNotProxy
	} else if m < len(v2Sig) || len(buf) == len(v2Sig) {
		return Header{}, 0, ErrIncomplete
	}
	verCmd := buf[12]
	if verCmd>>4 != 2 {
		return Header{}, 0, errV2Version
	}
	cmd := Command(verCmd & 0x0F)
	if cmd > CommandProxy {
		return Header{}, 0, errV2Command
	}
	if len(buf) == 13 {
		return Header{}, 0, ErrIncomplete
	}
	fam, tr := Family(buf[13]>>4), Transport(buf[13]&0x0F)
	// A LOCAL header's family is ignored, as the spec says ("discard the
	// protocol block including the family") and as HAProxy's receiver does.
	if cmd == CommandProxy && fam > FamilyUnix {
		return Header{}, 0, errV2Family
	}
	if cmd == CommandProxy && tr > TransportDgram {
		return Header{}, 0, errV2Transport
	}
	if len(buf) < v2FixedLen {
		return Header{}, 0, ErrIncomplete
	}
	total := v2FixedLen + int(binary.BigEndian.Uint16(buf[14:16]))
	if total > MaxHeaderLen {
		return Header{}, 0, errV2TooLong
	}
	// The address block, if the family is one the header may carry.
	block := -1
	if fam <= FamilyUnix && total-v2FixedLen >= addrLen[fam] {
		block = addrLen[fam]
	} else if cmd == CommandProxy {
		return Header{}, 0, errV2Short
	}
	if len(buf) < total {
		return Header{}, 0, ErrIncomplete
	}
	hdr := buf[:total]
	h := Header{Version: 2, Command: cmd, Family: fam, Transport: tr}
	if cmd == CommandLocal {
		h.Family, h.Transport = FamilyUnspec, TransportUnspec // ignored, may be garbage
	}
	if block < 0 {
		// LOCAL with a family it could not have: the whole block is opaque.
		return h, total, nil
	}
	if err := checkTLVs(hdr, v2FixedLen+block); err != nil {
		return Header{}, 0, err
	}
	if cmd == CommandProxy && tr != TransportUnspec {
		h.Source, h.Dest = v2Addrs(hdr[v2FixedLen:], fam)
	}
	return h, total, nil
}

// v2Addrs reads the INET or INET6 address block; other families carry no IP
// address, so the connection's own stand.
func v2Addrs(b []byte, fam Family) (src, dst netip.AddrPort) {
	switch fam {
	case FamilyInet:
		s := netip.AddrFrom4([4]byte(b[0:4]))
		d := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(s, binary.BigEndian.Uint16(b[8:10])),
			netip.AddrPortFrom(d, binary.BigEndian.Uint16(b[10:12]))
	case FamilyInet6:
		s := netip.AddrFrom16([16]byte(b[0:16]))
		d := netip.AddrFrom16([16]byte(b[16:32]))
		return netip.AddrPortFrom(s, binary.BigEndian.Uint16(b[32:34])),
			netip.AddrPortFrom(d, binary.BigEndian.Uint16(b[34:36]))
	}
	return netip.AddrPort{}, netip.AddrPort{}
}

// checkTLVs walks the TLVs in hdr[off:]: each must fit inside the header (the
// length field says how many bytes to skip, and nothing may hide behind a
// TLV that claims to run past it). Their values are skipped, except a
// CRC32C, which the spec requires a receiver that supports it to verify.
func checkTLVs(hdr []byte, off int) error {
	for off < len(hdr) {
		if len(hdr)-off < tlvHdrLen {
			return errV2TLV
		}
		typ, n := hdr[off], int(binary.BigEndian.Uint16(hdr[off+1:off+3]))
		val := off + tlvHdrLen
		if n > len(hdr)-val {
			return errV2TLV
		}
		if typ == tlvCRC32C {
			if n != 4 {
				return errV2CRCLen
			}
			if !crcOK(hdr, val) {
				return errV2CRC
			}
		}
		off = val + n
	}
	return nil
}

// crcOK checks the CRC32C (RFC 4960 appendix B) of hdr computed with the
// 4-byte checksum at hdr[at:] taken as zeros, without writing to hdr: the
// caller's buffer is read-only to this package.
func crcOK(hdr []byte, at int) bool {
	c := crc32.Update(0, castagnoli, hdr[:at])
	c = crc32.Update(c, castagnoli, zeroCRC[:])
	c = crc32.Update(c, castagnoli, hdr[at+4:])
	return c == binary.BigEndian.Uint32(hdr[at:at+4])
}
