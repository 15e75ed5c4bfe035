// Package k8s_test validates the Kubernetes manifests beside it without a
// cluster: each parses strictly against the API fields it uses, the numbers
// that must agree do (probes and container args, grace periods, workers
// and CPUs, seccomp), and the container's arguments start a real uringd
// whose probe paths answer as the kubelet expects.
package k8s_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// load decodes every file kustomization.yaml lists (kubectl apply -k).
func load(t *testing.T) manifests {
	t.Helper()
	var k kustomization
	require.NoError(t, readStrict("kustomization.yaml", &k))
	require.Equal(t, "Kustomization", k.Kind)
	var m manifests
	for _, r := range k.Resources {
		b, err := os.ReadFile(r)
		require.NoError(t, err, "kustomization.yaml lists %s", r)
		require.NoError(t, decode(b, &m), r)
	}
	require.Len(t, m.deployments, 1)
	require.Len(t, m.services, 1)
	require.Len(t, m.pdbs, 1)
	return m
}

// uringd is the Deployment's uringd container.
func uringd(t *testing.T, d deployment) container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	require.Len(t, cs, 1)
	return cs[0]
}

// portOf resolves a probe's or Service's target port (a number or a
// container port's name) to the container port number.
func portOf(t *testing.T, c container, p intOrString) int {
	t.Helper()
	if p.IsInt {
		n, err := strconv.Atoi(p.S)
		require.NoError(t, err)
		return n
	}
	for _, cp := range c.Ports {
		if cp.Name == p.S {
			return cp.ContainerPort
		}
	}
	t.Fatalf("no container port named %q", p.S)
	return 0
}

// argPort is the port of a host:port flag of the container.
func argPort(t *testing.T, c container, flag string) int {
	t.Helper()
	v, ok := flagValue(c.Args, flag)
	require.True(t, ok, "no -%s in %q", flag, c.Args)
	_, port, err := net.SplitHostPort(v)
	require.NoError(t, err, "-%s", flag)
	n, err := strconv.Atoi(port)
	require.NoError(t, err, "-%s", flag)
	return n
}

func argDuration(t *testing.T, c container, flag string) time.Duration {
	t.Helper()
	v, ok := flagValue(c.Args, flag)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "-%s", flag)
	return d
}

func TestManifestsParseStrictly(t *testing.T) {
	m := load(t)
	d, s, p := m.deployments[0], m.services[0], m.pdbs[0]
	c := uringd(t, d)
	assert.NotEmpty(t, c.Image)

	// The selectors find the pods.
	labels := d.Spec.Template.Metadata.Labels
	for k, v := range d.Spec.Selector.MatchLabels {
		assert.Equal(t, v, labels[k], "Deployment selector %s", k)
	}
	for k, v := range s.Spec.Selector {
		assert.Equal(t, v, labels[k], "Service selector %s", k)
	}
	for k, v := range p.Spec.Selector.MatchLabels {
		assert.Equal(t, v, labels[k], "PodDisruptionBudget selector %s", k)
	}
	// The Service sends traffic to -addr's port and scrapes -metrics's.
	byName := map[string]int{}
	for _, sp := range s.Spec.Ports {
		byName[sp.Name] = portOf(t, c, sp.TargetPort)
	}
	assert.Equal(t, argPort(t, c, "addr"), byName["http"])
	assert.Equal(t, argPort(t, c, "metrics"), byName["metrics"])
	assert.Equal(t, strconv.Itoa(argPort(t, c, "metrics")), d.Spec.Template.Metadata.Annotations["prometheus.io/port"])
	// A rolling update never has fewer ready pods than replicas.
	assert.Equal(t, "0", d.Spec.Strategy.RollingUpdate.MaxUnavailable.S)
}

func TestDeploymentInvariants(t *testing.T) {
	d := load(t).deployments[0]
	c := uringd(t, d)
	metricsPort := argPort(t, c, "metrics")

	// Probes: readiness on /readyz (503 from SIGTERM on), liveness on
	// /healthz, both on the -metrics listener, not the traffic port.
	require.NotNil(t, c.ReadinessProbe)
	require.NotNil(t, c.ReadinessProbe.HTTPGet)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, metricsPort, portOf(t, c, c.ReadinessProbe.HTTPGet.Port))
	require.NotNil(t, c.LivenessProbe)
	require.NotNil(t, c.LivenessProbe.HTTPGet)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	assert.Equal(t, metricsPort, portOf(t, c, c.LivenessProbe.HTTPGet.Port))
	assert.NotEqual(t, argPort(t, c, "addr"), metricsPort)

	// Grace: the kubelet's SIGKILL must come after the preStop pause, any
	// -shutdown-delay and the whole -grace drain.
	var preStop time.Duration
	if ps := c.Lifecycle.PreStop; ps != nil && ps.Sleep != nil {
		preStop = time.Duration(ps.Sleep.Seconds) * time.Second
	}
	delay := argDuration(t, c, "shutdown-delay")
	assert.Positive(t, preStop+delay, "neither a preStop sleep nor -shutdown-delay: endpoints still send while the listener closes")
	grace := argDuration(t, c, "grace")
	require.Positive(t, grace, "-grace must be set explicitly (its default is 10s)")
	tgps := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	require.NotNil(t, tgps, "terminationGracePeriodSeconds unset (30 s by default)")
	assert.Greater(t, time.Duration(*tgps)*time.Second, preStop+delay+grace,
		"terminationGracePeriodSeconds %d <= preStop %v + -shutdown-delay %v + -grace %v", *tgps, preStop, delay, grace)

	// One event loop per CPU the container may use: -workers = CPU limit
	// (uringd counts the CPUs of its affinity mask, which a quota does not
	// narrow), and the request equals the limit.
	workers, ok := flagValue(c.Args, "workers")
	require.True(t, ok, "no -workers: uringd would start one worker per node CPU")
	assert.Equal(t, c.Resources.Limits["cpu"], workers)
	assert.Equal(t, c.Resources.Limits["cpu"], c.Resources.Requests["cpu"])
	assert.NotEmpty(t, c.Resources.Limits["memory"])
	assert.NotEmpty(t, c.Resources.Requests["memory"])

	// seccomp: set, and where it is the runtime's default (which blocks
	// io_uring) the engine must be allowed to fall back.
	sp := c.SecurityContext.SeccompProfile
	if sp == nil {
		sp = d.Spec.Template.Spec.SecurityContext.SeccompProfile
	}
	require.NotNil(t, sp, "no seccompProfile: the runtime decides, and many block io_uring")
	engine, _ := flagValue(c.Args, "engine")
	switch sp.Type {
	case "Localhost":
		_, err := os.Stat(filepath.Base(sp.LocalhostProfile))
		assert.NoError(t, err, "localhostProfile %s is not the profile beside the manifests", sp.LocalhostProfile)
	case "RuntimeDefault":
		assert.Contains(t, []string{"auto", "netpoll"}, engine, "RuntimeDefault blocks io_uring: -engine auto or netpoll")
	default:
		t.Errorf("seccompProfile type %q: want Localhost (io_uring allowed) or RuntimeDefault with -engine auto", sp.Type)
	}

	// Hardening that costs uringd nothing.
	assert.True(t, d.Spec.Template.Spec.SecurityContext.RunAsNonRoot)
	require.NotNil(t, c.SecurityContext.AllowPrivilegeEscalation)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
	assert.True(t, c.SecurityContext.ReadOnlyRootFilesystem)
	assert.Equal(t, []string{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.Less(t, argPort(t, c, "addr"), 65536)
	assert.GreaterOrEqual(t, argPort(t, c, "addr"), 1024, "a port below 1024 needs NET_BIND_SERVICE, dropped above")
}

// seccompProfileFile is the Docker/OCI seccomp profile format that
// containerd and CRI-O read for a Localhost profile.
type seccompProfileFile struct {
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
		Includes json.RawMessage `json:"includes"`
		Excludes json.RawMessage `json:"excludes"`
		ErrnoRet *int            `json:"errnoRet"`
	} `json:"syscalls"`
}

func TestSeccompProfileAllowsIOUring(t *testing.T) {
	d := load(t).deployments[0]
	sp := d.Spec.Template.Spec.SecurityContext.SeccompProfile
	require.NotNil(t, sp)
	b, err := os.ReadFile(filepath.Base(sp.LocalhostProfile))
	require.NoError(t, err)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var p seccompProfileFile
	require.NoError(t, dec.Decode(&p))

	// Deny by default (a narrow profile, not an unconfined one).
	assert.Equal(t, "SCMP_ACT_ERRNO", p.DefaultAction)
	archs := []string{}
	for _, a := range p.ArchMap {
		archs = append(archs, a.Architecture)
	}
	assert.Contains(t, archs, "SCMP_ARCH_X86_64")
	assert.Contains(t, archs, "SCMP_ARCH_AARCH64")

	allowed := map[string]bool{}       // by any rule
	unconditional := map[string]bool{} // by a rule without conditions
	for _, r := range p.Syscalls {
		if r.Action != "SCMP_ACT_ALLOW" {
			continue
		}
		plain := len(r.Args) == 0 && len(r.Includes) == 0 && len(r.Excludes) == 0
		for _, n := range r.Names {
			allowed[n] = true
			unconditional[n] = unconditional[n] || plain
		}
	}
	for _, n := range []string{"io_uring_setup", "io_uring_enter", "io_uring_register"} {
		assert.True(t, unconditional[n], "%s not allowed unconditionally", n)
	}
	// What the Go runtime and uringd's netpoll fallback need is still in
	// (the profile is the default one plus io_uring, not a new list).
	for _, n := range []string{"read", "write", "openat", "close", "mmap", "munmap", "futex", "clone",
		"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "sched_getaffinity", "sched_yield",
		"epoll_create1", "epoll_ctl", "epoll_pwait", "socket", "bind", "listen", "accept4", "setsockopt",
		"getsockname", "recvfrom", "sendto", "shutdown", "exit_group", "tgkill", "nanosleep", "prlimit64"} {
		assert.True(t, allowed[n], "%s not allowed", n)
	}
	// What the default profiles keep out stays out.
	for _, n := range []string{"kexec_load", "init_module", "reboot", "swapon", "open_by_handle_at"} {
		assert.False(t, unconditional[n], "%s allowed", n)
	}
}

// The container's arguments, as the manifest has them, start uringd (only
// the listen addresses moved to free loopback ports), and the kubelet's
// probes get what they expect: /readyz and /healthz 200 on the metrics
// port, /readyz 503 once SIGTERM starts the drain; the -grace uringd
// reports using is the one the grace invariant was computed with.
func TestManifestArgsStartUringd(t *testing.T) {
	d := load(t).deployments[0]
	c := uringd(t, d)
	bin := filepath.Join(t.TempDir(), "uringd")
	build := exec.Command("go", "build", "-o", bin, "github.com/uringd/uringd/cmd/uringd")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	args := slices.Clone(c.Args)
	for i, a := range args {
		for _, f := range []string{"addr", "metrics"} {
			if strings.HasPrefix(a, "-"+f+"=") {
				args[i] = "-" + f + "=127.0.0.1:0"
			}
		}
		if strings.HasPrefix(a, "-workers=") {
			args[i] = "-workers=1" // the CI machine may have fewer CPUs than the limit
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = nil // the access log (-access-log=-)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var log strings.Builder
	waitFor := func(re *regexp.Regexp) []string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "uringd exited; it logged:\n%s", &log)
				log.WriteString(l + "\n")
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			case <-ctx.Done():
				t.Fatalf("no %s in:\n%s", re, &log)
			}
		}
	}
	metricsAddr := waitFor(regexp.MustCompile(`msg="metrics serving" addr=(\S+)`))[1]
	addr := waitFor(regexp.MustCompile(`msg="uringd serving" addr=(\S+)`))[1]
	get := func(url string) int {
		t.Helper()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Readiness comes just after the startup line: probe until it is
	// there, as the kubelet does.
	require.Eventually(t, func() bool { return get("http://"+metricsAddr+c.ReadinessProbe.HTTPGet.Path) == http.StatusOK },
		30*time.Second, 10*time.Millisecond, "%s never ready", c.ReadinessProbe.HTTPGet.Path)
	assert.Equal(t, http.StatusOK, get("http://"+metricsAddr+c.LivenessProbe.HTTPGet.Path))
	assert.Equal(t, http.StatusOK, get("http://"+addr+"/"))

	// Hold a request in progress so that the drain lasts while /readyz is
	// probed (an idle server's drain ends at once): half a request head,
	// sent once the server has read the earlier requests, and waited for
	// until uringd_bytes_received_total shows the server has it too.
	before := bytesReceived(t, "http://"+metricsAddr+"/metrics")
	held, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer held.Close()
	half := "GET / HTTP/1.1\r\nHost: x\r\n"
	_, err = held.Write([]byte(half))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return bytesReceived(t, "http://"+metricsAddr+"/metrics") >= before+len(half)
	}, 30*time.Second, 10*time.Millisecond, "the server never read the held request")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	m := waitFor(regexp.MustCompile(`msg="shutting down" .*grace=(\S+)`))
	g, err := time.ParseDuration(m[1])
	require.NoError(t, err)
	assert.Equal(t, argDuration(t, c, "grace"), g)
	assert.Equal(t, http.StatusServiceUnavailable, get("http://"+metricsAddr+c.ReadinessProbe.HTTPGet.Path))
	assert.Equal(t, http.StatusOK, get("http://"+metricsAddr+c.LivenessProbe.HTTPGet.Path))
	_, err = held.Write([]byte("\r\n")) // finish the request: it is answered, then the drain ends
	require.NoError(t, err)
	held.SetDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(held), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "Hello, World!", string(body))
	assert.True(t, resp.Close, "a response during the drain closes its connection")
	for range lines {
	}
	require.NoError(t, cmd.Wait())
}

// bytesReceived is uringd_bytes_received_total, all workers, from /metrics.
func bytesReceived(t *testing.T, url string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	sum := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && strings.HasPrefix(name, "uringd_bytes_received_total") {
			n, err := strconv.ParseFloat(value, 64)
			require.NoError(t, err, sc.Text())
			sum += int(n)
		}
	}
	require.NoError(t, sc.Err())
	return sum
}

// kubectl (where installed) renders the kustomization offline: what
// "kubectl apply -k deploy/k8s" would send parses strictly as well.
func TestKustomizeBuild(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not installed: the kustomize render is not checked (the files are, above)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kubectl", "kustomize", ".").Output()
	require.NoError(t, err)
	var m manifests
	require.NoError(t, decode(out, &m))
	assert.Len(t, m.deployments, 1)
	assert.Len(t, m.services, 1)
	assert.Len(t, m.pdbs, 1)
}
