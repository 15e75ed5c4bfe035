package http1

import "strconv"

// statusTexts holds the reason phrases of RFC 9110 §15 and the few other
// registered codes servers send.
var statusTexts = [...]struct {
	code int
	text string
}{
	{100, "Continue"}, {101, "Switching Protocols"}, {102, "Processing"}, {103, "Early Hints"},
	{200, "OK"}, {201, "Created"}, {202, "Accepted"}, {203, "Non-Authoritative Information"},
	{204, "No Content"}, {205, "Reset Content"}, {206, "Partial Content"}, {207, "Multi-Status"},
	{208, "Already Reported"}, {226, "IM Used"},
	{300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"},
	{304, "Not Modified"}, {305, "Use Proxy"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
	{400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
	{404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
	{407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {409, "Conflict"},
	{410, "Gone"}, {411, "Length Required"}, {412, "Precondition Failed"},
	{413, "Content Too Large"}, {414, "URI Too Long"}, {415, "Unsupported Media Type"},
	{416, "Range Not Satisfiable"}, {417, "Expectation Failed"}, {418, "I'm a teapot"},
	{421, "Misdirected Request"}, {422, "Unprocessable Content"}, {423, "Locked"},
	{424, "Failed Dependency"}, {425, "Too Early"}, {426, "Upgrade Required"},
	{428, "Precondition Required"}, {429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"}, {451, "Unavailable For Legal Reasons"},
	{500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
	{503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
	{506, "Variant Also Negotiates"}, {507, "Insufficient Storage"}, {508, "Loop Detected"},
	{510, "Not Extended"}, {511, "Network Authentication Required"},
}

// statusText and statusLine are indexed by code (100..599); statusLine holds
// the whole "HTTP/1.1 200 OK\r\n" so a response starts with one copy.
var statusText, statusLine [600]string

func init() {
	for _, s := range statusTexts {
		statusText[s.code] = s.text
	}
	for code := 100; code < 600; code++ {
		statusLine[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + statusText[code] + "\r\n"
	}
}

// StatusText returns the reason phrase for code, or "" if it is unknown.
func StatusText(code int) string {
	if code < 100 || code >= 600 {
		return ""
	}
	return statusText[code]
}

// BodyAllowed reports whether a response with this status may have a body:
// not 1xx, 204 or 304 (RFC 9110 sections 15.2, 15.3.5, 15.4.5). Those have
// neither a body nor framing fields.
func BodyAllowed(code int) bool {
	return code >= 200 && code != 204 && code != 304
}
