package proxyproto

import (
	"encoding/binary"
	"strconv"
)

// AppendV1 appends h as a v1 line: TCP4 if both addresses are IPv4, TCP6 if
// both are IPv6 (an IPv4-mapped address counts as IPv6, written the way
// inet_ntop writes it), and "PROXY UNKNOWN\r\n" otherwise, including when h
// has no addresses. Zones are dropped. Tests and tools use it; the server
// only parses.
func AppendV1(dst []byte, h Header) []byte {
	s, d := h.Source.Addr().WithZone(""), h.Dest.Addr().WithZone("")
	var proto string
	switch {
	case !h.HasAddrs() || !d.IsValid():
		return append(dst, "PROXY UNKNOWN\r\n"...)
	case s.Is4() && d.Is4():
		proto = "TCP4 "
	case s.Is6() && d.Is6():
		proto = "TCP6 "
	default:
		return append(dst, "PROXY UNKNOWN\r\n"...)
	}
	dst = append(dst, v1Sig...)
	dst = append(dst, proto...)
	dst = s.AppendTo(dst)
	dst = append(dst, ' ')
	dst = d.AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Source.Port()), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Dest.Port()), 10)
	return append(dst, "\r\n"...)
}

// AppendV2 appends h as a v2 header followed by the raw TLV bytes tlvs (which
// it does not check). A LOCAL command, or a header without addresses, is
// written with family UNSPEC and no address block. Otherwise the family is
// INET when both addresses are IPv4, else INET6 (IPv4 addresses mapped), and
// the transport is h.Transport (STREAM if unset).
func AppendV2(dst []byte, h Header, tlvs []byte) []byte {
	dst = append(dst, v2Sig...)
	if h.Command == CommandLocal || !h.HasAddrs() {
		dst = append(dst, 0x20|byte(h.Command&1), 0x00)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(tlvs)))
		return append(dst, tlvs...)
	}
	tr := h.Transport
	if tr == TransportUnspec {
		tr = TransportStream
	}
	s, d := h.Source.Addr(), h.Dest.Addr()
	if s.Is4() && d.Is4() {
		dst = append(dst, 0x21, byte(FamilyInet)<<4|byte(tr))
		dst = binary.BigEndian.AppendUint16(dst, uint16(addrLen[FamilyInet]+len(tlvs)))
		s4, d4 := s.As4(), d.As4()
		dst = append(append(dst, s4[:]...), d4[:]...)
	} else {
		dst = append(dst, 0x21, byte(FamilyInet6)<<4|byte(tr))
		dst = binary.BigEndian.AppendUint16(dst, uint16(addrLen[FamilyInet6]+len(tlvs)))
		s16, d16 := s.As16(), d.As16()
		dst = append(append(dst, s16[:]...), d16[:]...)
	}
	dst = binary.BigEndian.AppendUint16(dst, h.Source.Port())
	dst = binary.BigEndian.AppendUint16(dst, h.Dest.Port())
	return append(dst, tlvs...)
}
