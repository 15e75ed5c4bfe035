package uring

import "strings"

// Feature is one optional kernel capability, one bit each. The comment gives
// the kernel constant and the first release that has it.
type Feature uint32

const (
	FeatSingleIssuer     Feature = 1 << iota // IORING_SETUP_SINGLE_ISSUER, 6.0
	FeatDeferTaskrun                         // IORING_SETUP_DEFER_TASKRUN, 6.1
	FeatCoopTaskrun                          // IORING_SETUP_COOP_TASKRUN, 5.19
	FeatSubmitAll                            // IORING_SETUP_SUBMIT_ALL, 5.18
	FeatRegisterRingFD                       // IORING_REGISTER_RING_FDS, 5.18
	FeatMultishotAccept                      // IORING_ACCEPT_MULTISHOT, 5.19
	FeatMultishotRecv                        // IORING_RECV_MULTISHOT, 6.0
	FeatBufRing                              // IORING_REGISTER_PBUF_RING, 5.19
	FeatProvideBuffers                       // IORING_OP_PROVIDE_BUFFERS, 5.7
	FeatSendZC                               // IORING_OP_SEND_ZC, 6.0
	FeatMultishotTimeout                     // IORING_TIMEOUT_MULTISHOT, 6.4
	FeatExtArg                               // IORING_FEAT_EXT_ARG, 5.11
	FeatShutdown                             // IORING_OP_SHUTDOWN, 5.11
	featCount            = iota
)

var featureNames = [featCount]string{
	"single-issuer", "defer-taskrun", "coop-taskrun", "submit-all", "register-ring-fd",
	"multishot-accept", "multishot-recv", "buf-ring", "provide-buffers", "send-zc",
	"multishot-timeout", "ext-arg", "shutdown",
}

// String returns the feature's short name, e.g. "multishot-recv".
func (f Feature) String() string {
	for i := 0; i < featCount; i++ {
		if f == 1<<i {
			return featureNames[i]
		}
	}
	return "unknown-feature"
}

// Features is a set of Feature.
type Features uint32

// FeatureSet builds a Features from individual features.
func FeatureSet(fs ...Feature) Features {
	var s Features
	for _, f := range fs {
		s |= Features(f)
	}
	return s
}

// AllFeatures is every feature this package knows about.
const AllFeatures = Features(1<<featCount - 1)

// NewerThan510 is every feature upstream Linux 5.10 lacks: Options{Disable:
// NewerThan510} runs the 5.10 path (single-shot accept and recv, classic
// provided buffers, no SINGLE_ISSUER/DEFER_TASKRUN/COOP_TASKRUN/SUBMIT_ALL,
// unregistered ring fd, no EXT_ARG) on any newer kernel. Later stable 5.10
// kernels carry a newer io_uring: Debian's 5.10.223 has EXT_ARG (see
// kernel-notes.md), so this is the strictest 5.10.
const NewerThan510 = AllFeatures &^ Features(FeatProvideBuffers)

// opFeatures are kernel capabilities found by Probe (as opposed to the setup
// flags a given ring obtained).
const opFeatures = Features(FeatMultishotAccept | FeatMultishotRecv | FeatBufRing |
	FeatProvideBuffers | FeatSendZC | FeatMultishotTimeout | FeatShutdown)

// Has reports whether every bit of x is in f.
func (f Features) Has(x Feature) bool { return uint32(f)&uint32(x) == uint32(x) }

// String lists the names in the set, comma separated ("none" when empty),
// for the startup log.
func (f Features) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for i := 0; i < featCount; i++ {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(featureNames[i])
		}
	}
	return b.String()
}
