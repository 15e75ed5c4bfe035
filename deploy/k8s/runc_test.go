package k8s_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The profile as a container runtime applies it: containerd and CRI-O turn
// a Localhost profile (Docker's format) into the OCI runtime spec's
// linux.seccomp for this container (moby/profiles seccomp.LoadProfile: the
// native architecture's archMap entry, the rules whose includes/excludes
// match the container's capabilities, architecture and kernel) and runc
// installs it. The tests here do the same and run uringd under runc with
// the pod's security context: with the profile io_uring works; with the
// default profile it is refused and -engine=auto falls back to netpoll.

// ociSeccomp is the OCI runtime spec's linux.seccomp.
type ociSeccomp struct {
	DefaultAction   string       `json:"defaultAction"`
	DefaultErrnoRet *int         `json:"defaultErrnoRet,omitempty"`
	Architectures   []string     `json:"architectures,omitempty"`
	Syscalls        []ociSyscall `json:"syscalls,omitempty"`
}

type ociSyscall struct {
	Names    []string        `json:"names"`
	Action   string          `json:"action"`
	ErrnoRet *int            `json:"errnoRet,omitempty"`
	Args     json.RawMessage `json:"args,omitempty"`
}

// condition is a rule's includes or excludes.
type condition struct {
	Arches    []string `json:"arches"`
	Caps      []string `json:"caps"`
	MinKernel string   `json:"minKernel"`
}

// goToNative is moby's name of runtime.GOARCH, as includes/excludes use it.
var goToNative = map[string]string{"amd64": "amd64", "arm64": "arm64", "386": "x86", "arm": "arm",
	"riscv64": "riscv64", "s390x": "s390x", "ppc64le": "ppc64le", "loong64": "loongarch64"}

var nativeToSeccomp = map[string]string{"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64",
	"x86": "SCMP_ARCH_X86", "arm": "SCMP_ARCH_ARM", "riscv64": "SCMP_ARCH_RISCV64", "s390x": "SCMP_ARCH_S390X",
	"ppc64le": "SCMP_ARCH_PPC64LE", "loongarch64": "SCMP_ARCH_LOONGARCH64"}

// toOCI converts a Docker-format profile for a container with caps, as
// moby/profiles' setupSeccomp does. dropRule, if not empty, leaves out the
// rule with that comment prefix (the default profile is ours without it).
func toOCI(t *testing.T, profile []byte, caps []string, dropRule string) ociSeccomp {
	t.Helper()
	var p struct {
		DefaultAction   string `json:"defaultAction"`
		DefaultErrnoRet *int   `json:"defaultErrnoRet"`
		ArchMap         []struct {
			Architecture     string   `json:"architecture"`
			SubArchitectures []string `json:"subArchitectures"`
		} `json:"archMap"`
		Syscalls []struct {
			Names    []string        `json:"names"`
			Action   string          `json:"action"`
			Comment  string          `json:"comment"`
			Args     json.RawMessage `json:"args"`
			ErrnoRet *int            `json:"errnoRet"`
			Includes *condition      `json:"includes"`
			Excludes *condition      `json:"excludes"`
		} `json:"syscalls"`
	}
	require.NoError(t, json.Unmarshal(profile, &p))
	arch := goToNative[runtime.GOARCH]
	out := ociSeccomp{DefaultAction: p.DefaultAction, DefaultErrnoRet: p.DefaultErrnoRet}
	for _, a := range p.ArchMap {
		if a.Architecture == nativeToSeccomp[arch] {
			out.Architectures = append([]string{a.Architecture}, a.SubArchitectures...)
		}
	}
	require.NotEmpty(t, out.Architectures, "no archMap entry for %s", arch)
	kernel := kernelVersion(t)
	for _, r := range p.Syscalls {
		if dropRule != "" && strings.HasPrefix(r.Comment, dropRule) {
			continue
		}
		if x := r.Excludes; x != nil {
			if slices.Contains(x.Arches, arch) || slices.ContainsFunc(x.Caps, func(c string) bool { return slices.Contains(caps, c) }) ||
				(x.MinKernel != "" && !versionLess(kernel, x.MinKernel)) {
				continue
			}
		}
		if in := r.Includes; in != nil {
			if (len(in.Arches) > 0 && !slices.Contains(in.Arches, arch)) ||
				slices.ContainsFunc(in.Caps, func(c string) bool { return !slices.Contains(caps, c) }) ||
				(in.MinKernel != "" && versionLess(kernel, in.MinKernel)) {
				continue
			}
		}
		out.Syscalls = append(out.Syscalls, ociSyscall{Names: r.Names, Action: r.Action, ErrnoRet: r.ErrnoRet, Args: r.Args})
	}
	return out
}

// kernelVersion is the running kernel's major.minor.
func kernelVersion(t *testing.T) [2]int {
	t.Helper()
	var u unix.Utsname
	require.NoError(t, unix.Uname(&u))
	v, err := parseVersion(unix.ByteSliceToString(u.Release[:]))
	require.NoError(t, err)
	return v
}

func parseVersion(s string) ([2]int, error) {
	var v [2]int
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return v, fmt.Errorf("version %q", s)
	}
	var err error
	if v[0], err = strconv.Atoi(parts[0]); err != nil {
		return v, err
	}
	minor := strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	v[1], err = strconv.Atoi(minor)
	return v, err
}

func versionLess(have [2]int, want string) bool {
	w, err := parseVersion(want)
	if err != nil {
		return false
	}
	return have[0] < w[0] || (have[0] == w[0] && have[1] < w[1])
}

// TestProfileUnderRunc runs the Deployment's container under runc, as the
// kubelet would: its arguments (listen addresses moved to free loopback
// ports, since the test shares the host's network), its user, no
// capabilities, no privilege escalation, a read-only root, and the seccomp
// profile the manifest names. Then once more under the runtime default
// (the same profile without its io_uring rule: moby's default.json).
func TestProfileUnderRunc(t *testing.T) {
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed (Debian: apt-get install -y runc): the seccomp profile is not run")
	}
	if os.Geteuid() != 0 {
		t.Skip("runc needs root here (rootless runc needs a user namespace setup)")
	}
	if _, ok := goToNative[runtime.GOARCH]; !ok {
		t.Skipf("no seccomp architecture for %s", runtime.GOARCH)
	}
	d := load(t).deployments[0]
	c := uringd(t, d)
	pod := d.Spec.Template.Spec
	profile, err := os.ReadFile(filepath.Base(pod.SecurityContext.SeccompProfile.LocalhostProfile))
	require.NoError(t, err)

	bin := filepath.Join(t.TempDir(), "uringd")
	build := exec.Command("go", "build", "-o", bin, "github.com/uringd/uringd/cmd/uringd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // static: the rootfs holds nothing else
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	// The pod drops every capability: no rule that includes a capability
	// applies, every rule that excludes one does.
	require.Equal(t, []string{"ALL"}, c.SecurityContext.Capabilities.Drop)
	t.Run("Localhost profile: io_uring", func(t *testing.T) {
		runUnderRunc(t, d, c, bin, toOCI(t, profile, nil, ""), "io_uring")
	})
	t.Run("RuntimeDefault: netpoll fallback", func(t *testing.T) {
		runUnderRunc(t, d, c, bin, toOCI(t, profile, nil, "uringd: io_uring"), "netpoll")
	})
}

func runUnderRunc(t *testing.T, d deployment, c container, bin string, sc ociSeccomp, wantEngine string) {
	bundle := t.TempDir()
	rootfs := filepath.Join(bundle, "rootfs")
	require.NoError(t, os.MkdirAll(rootfs, 0o755))
	b, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rootfs, "uringd"), b, 0o755))
	out, err := exec.Command("runc", "spec", "--bundle", bundle).CombinedOutput()
	require.NoError(t, err, "runc spec: %s", out)

	// The spec runc writes, changed as the kubelet's runtime would for
	// this container.
	raw, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	require.NoError(t, err)
	var spec map[string]any
	require.NoError(t, json.Unmarshal(raw, &spec))
	addr, metrics := freeAddr(t), freeAddr(t)
	args := []string{"/uringd"}
	for _, a := range c.Args {
		switch {
		case strings.HasPrefix(a, "-addr="):
			a = "-addr=" + addr
		case strings.HasPrefix(a, "-metrics="):
			a = "-metrics=" + metrics
		case strings.HasPrefix(a, "-workers="):
			a = "-workers=1" // the CI machine may have fewer CPUs than the limit
		}
		args = append(args, a)
	}
	proc := spec["process"].(map[string]any)
	proc["args"] = args
	proc["terminal"] = false
	proc["user"] = map[string]any{"uid": d.Spec.Template.Spec.SecurityContext.RunAsUser, "gid": d.Spec.Template.Spec.SecurityContext.RunAsGroup}
	require.Equal(t, []string{"ALL"}, c.SecurityContext.Capabilities.Drop)
	proc["capabilities"] = map[string]any{"bounding": []string{}, "effective": []string{}, "permitted": []string{}, "ambient": []string{}}
	proc["noNewPrivileges"] = !*c.SecurityContext.AllowPrivilegeEscalation
	spec["root"] = map[string]any{"path": "rootfs", "readonly": c.SecurityContext.ReadOnlyRootFilesystem}
	linux := spec["linux"].(map[string]any)
	var ns []any
	for _, n := range linux["namespaces"].([]any) {
		if n.(map[string]any)["type"] != "network" { // the host's loopback, to probe it
			ns = append(ns, n)
		}
	}
	linux["namespaces"] = ns
	linux["seccomp"] = sc
	raw, err = json.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "config.json"), raw, 0o644))

	id := fmt.Sprintf("uringd-k8s-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, "runc", "run", "--bundle", bundle, id)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		exec.Command("runc", "kill", id, "KILL").Run()
		cmd.Wait()
		exec.Command("runc", "delete", "--force", id).Run()
	})
	lines := make(chan string, 100)
	go func() {
		br := bufio.NewScanner(stderr)
		for br.Scan() {
			lines <- br.Text()
		}
		close(lines)
	}()
	var log strings.Builder
	waitFor := func(re *regexp.Regexp) []string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "uringd exited under runc; it logged:\n%s", &log)
				log.WriteString(l + "\n")
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			case <-ctx.Done():
				t.Fatalf("no %s in:\n%s", re, &log)
			}
		}
	}
	m := waitFor(regexp.MustCompile(`msg="uringd serving" addr=(\S+) .*engine=(\S+)`))
	assert.Equal(t, addr, m[1])
	assert.Equal(t, wantEngine, m[2], "engine under this profile; log:\n%s", &log)
	if wantEngine == "netpoll" {
		assert.Contains(t, log.String(), "io_uring_setup: operation not permitted", "the fallback says why")
	}
	get := func(url string) int {
		t.Helper()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Readiness comes just after the startup line: probe until it is
	// there, as the kubelet does.
	require.Eventually(t, func() bool { return get("http://"+metrics+c.ReadinessProbe.HTTPGet.Path) == http.StatusOK },
		30*time.Second, 10*time.Millisecond, "%s never ready", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, http.StatusOK, get("http://"+metrics+c.LivenessProbe.HTTPGet.Path))
	assert.Equal(t, http.StatusOK, get("http://"+addr+"/"))

	// The kubelet's stop: SIGTERM, then the graceful exit, 0.
	require.NoError(t, exec.Command("runc", "kill", id, "TERM").Run())
	waitFor(regexp.MustCompile(`msg=bye`))
	for range lines {
	}
	require.NoError(t, cmd.Wait(), "log:\n%s", &log)
	t.Logf("uringd under runc:\n%s", &log)
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
