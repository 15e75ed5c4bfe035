package accesslog

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Format is the layout of a line.
type Format int

const (
	// Combined is nginx's "combined" log_format followed by the request
	// time in seconds with millisecond resolution:
	//
	//	$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time
	Combined Format = iota
	// JSON is one object per line with the same fields, named as in nginx's
	// variables: {"time":"2006-01-02T15:04:05.000Z07:00","remote_addr":...,
	// "request_method":...,"request_uri":...,"server_protocol":...,
	// "status":200,"body_bytes_sent":13,"http_referer":...,
	// "http_user_agent":...,"request_time":0.001}.
	JSON
)

// ParseFormat is String's inverse: "combined" or "json".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "combined":
		return Combined, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("access log format %q: want combined or json", s)
}

func (f Format) String() string {
	if f == JSON {
		return "json"
	}
	return "combined"
}

// Entry is one request as the engines see it. The byte slices are views
// valid only during Sink.Log.
type Entry struct {
	Remote     netip.AddrPort // the client; the zero value logs "-"
	Time       time.Time      // when the response was handed to the socket
	Method     []byte         // nil: the request line could not be parsed (logged "-")
	Target     []byte
	ProtoMinor int
	Status     int
	BodyBytes  int64 // response body bytes (nginx's $body_bytes_sent)
	Referer    []byte
	UserAgent  []byte
	Duration   time.Duration // from the request's first byte to Time
}

// maxField bounds what one field contributes to a line (before escaping):
// a line must fit a sink's buffer without growing it.
const maxField = 2048

// maxLine is the longest line append may write: the fixed text, the
// numbers, the address and the time, and four client-sent fields (method,
// target, referer, user agent) at worst escaped to six bytes a byte
// (JSON's \u00HH).
const maxLine = 512 + 4*6*maxField

// appendEntry appends e as one line, with its newline.
func appendEntry(b []byte, f Format, e *Entry, ts *timeCache) []byte {
	if f == JSON {
		return appendJSON(b, e, ts)
	}
	return appendCombined(b, e, ts)
}

func appendCombined(b []byte, e *Entry, ts *timeCache) []byte {
	b = appendAddr(b, e.Remote)
	b = append(b, " - - ["...)
	b = append(b, ts.local(e.Time)...)
	b = append(b, "] \""...)
	if e.Method == nil {
		b = append(b, '-')
	} else {
		b = appendEscaped(b, e.Method)
		b = append(b, ' ')
		b = appendEscaped(b, e.Target)
		b = append(b, " HTTP/1."...)
		b = strconv.AppendInt(b, int64(e.ProtoMinor), 10)
	}
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.BodyBytes, 10)
	b = append(b, " \""...)
	b = appendOrDash(b, e.Referer)
	b = append(b, "\" \""...)
	b = appendOrDash(b, e.UserAgent)
	b = append(b, "\" "...)
	b = appendSeconds(b, e.Duration)
	return append(b, '\n')
}

func appendJSON(b []byte, e *Entry, ts *timeCache) []byte {
	b = append(b, `{"time":"`...)
	b = append(b, ts.iso(e.Time)...)
	b = append(b, `","remote_addr":"`...)
	if e.Remote.IsValid() {
		b = e.Remote.Addr().AppendTo(b)
	}
	b = append(b, `","request_method":"`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `","request_uri":"`...)
	b = appendJSONString(b, e.Target)
	b = append(b, `","server_protocol":"`...)
	if e.Method != nil {
		b = append(b, "HTTP/1."...)
		b = strconv.AppendInt(b, int64(e.ProtoMinor), 10)
	}
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"body_bytes_sent":`...)
	b = strconv.AppendInt(b, e.BodyBytes, 10)
	b = append(b, `,"http_referer":"`...)
	b = appendJSONString(b, e.Referer)
	b = append(b, `","http_user_agent":"`...)
	b = appendJSONString(b, e.UserAgent)
	b = append(b, `","request_time":`...)
	b = appendSeconds(b, e.Duration)
	return append(b, "}\n"...)
}

func appendAddr(b []byte, ap netip.AddrPort) []byte {
	if !ap.IsValid() {
		return append(b, '-')
	}
	return ap.Addr().Unmap().AppendTo(b)
}

// appendSeconds writes d as seconds with three decimals (nginx's
// $request_time).
func appendSeconds(b []byte, d time.Duration) []byte {
	ms := max(d.Milliseconds(), 0)
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	frac := ms % 1000
	b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

func appendOrDash(b, v []byte) []byte {
	if len(v) == 0 {
		return append(b, '-')
	}
	return appendEscaped(b, v)
}

const hexDigits = "0123456789ABCDEF"

// appendEscaped writes v as nginx's escape=default does: '"', '\' and
// bytes outside printable ASCII as \xHH, so that a client cannot forge a
// line or a field. At most maxField bytes of v are written.
func appendEscaped(b, v []byte) []byte {
	if len(v) > maxField {
		v = v[:maxField]
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// appendJSONString writes v as the inside of a JSON string (RFC 8259 §7):
// quotes, backslashes and control characters escaped; bytes that are not
// valid UTF-8 are escaped as \u00HH of the byte, as nginx's escape=json
// does not promise anything better. At most maxField bytes of v are written.
func appendJSONString(b, v []byte) []byte {
	if len(v) > maxField {
		v = v[:maxField]
	}
	for _, c := range v {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}

// timeCache keeps the current second's rendering in both formats: a busy
// sink logs thousands of lines in one second.
type timeCache struct {
	sec      int64
	localBuf [32]byte
	localN   int
	isoBuf   [40]byte
	isoN     int
	isoMilli int64
}

// local is $time_local: "02/Jan/2006:15:04:05 -0700".
func (c *timeCache) local(t time.Time) []byte {
	if s := t.Unix(); s != c.sec || c.localN == 0 {
		c.sec = s
		c.localN = len(t.AppendFormat(c.localBuf[:0], "02/Jan/2006:15:04:05 -0700"))
	}
	return c.localBuf[:c.localN]
}

// iso is RFC 3339 with milliseconds (nginx's $time_iso8601 has seconds
// only; milliseconds order the lines of one second).
func (c *timeCache) iso(t time.Time) []byte {
	if ms := t.UnixMilli(); ms != c.isoMilli || c.isoN == 0 {
		c.isoMilli = ms
		c.isoN = len(t.AppendFormat(c.isoBuf[:0], "2006-01-02T15:04:05.000Z07:00"))
	}
	return c.isoBuf[:c.isoN]
}
