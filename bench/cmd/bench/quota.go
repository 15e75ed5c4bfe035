package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// A CPU quota confines the server to a fraction of one CPU with the kernel's
// CFS bandwidth control. On a two-CPU machine wrk, on its one CPU, saturates
// before the fast servers do, so their requests/s all read the same; under a
// quota the server is the bottleneck and requests/s measures the server.
//
// cgroup v1 (a cpu hierarchy with cpu.cfs_quota_us) and v2 (a unified
// hierarchy whose root offers the cpu controller, cpu.max) are both handled.

const quotaPeriodUs = 100000 // the CFS period: 100 ms, the kernel's default

type cgroupLayout struct {
	root string // the hierarchy's root directory
	v2   bool
}

var (
	quotaOnce   sync.Once
	quotaLayout cgroupLayout
	quotaWhy    string // why quotas cannot be set here; "" when they can
)

// quotaUnavailable says why this machine cannot confine a server to a CPU
// quota (not root, no cpu controller, read-only cgroupfs), or "" if it can.
// It is decided once, by creating and removing a probe group.
func quotaUnavailable() string {
	quotaOnce.Do(func() {
		l, err := findCgroupCPU()
		if err == nil {
			err = probeCgroup(l)
		}
		if err != nil {
			quotaWhy = "needs a writable cgroup cpu controller: " + err.Error()
			return
		}
		quotaLayout = l
	})
	return quotaWhy
}

func findCgroupCPU() (cgroupLayout, error) {
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err == nil {
		return cgroupLayout{root: "/sys/fs/cgroup/cpu"}, nil
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		b, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
		if err == nil && strings.Contains(" "+string(b)+" ", " cpu ") {
			return cgroupLayout{root: root, v2: true}, nil
		}
	}
	return cgroupLayout{}, errors.New("no cgroup v1 cpu hierarchy and no cgroup v2 root with the cpu controller")
}

func probeCgroup(l cgroupLayout) error {
	if l.v2 {
		// Child groups get the cpu controller only if the root delegates it.
		if err := os.WriteFile(filepath.Join(l.root, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
			return err
		}
	}
	dir := filepath.Join(l.root, fmt.Sprintf("uringd-bench-probe-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	defer os.Remove(dir)
	return writeQuota(l, dir, 0.5)
}

func writeQuota(l cgroupLayout, dir string, cpus float64) error {
	quota := int(cpus * quotaPeriodUs)
	if l.v2 {
		return os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(fmt.Sprintf("%d %d", quota, quotaPeriodUs)), 0)
	}
	if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte(strconv.Itoa(quotaPeriodUs)), 0); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(strconv.Itoa(quota)), 0)
}

// cpuQuota is one server process confined to a quota.
type cpuQuota struct {
	l   cgroupLayout
	dir string
	pid int
}

// confine moves pid (all its threads, and those it starts later) into a new
// group limited to cpus CPUs.
func confine(pid int, cpus float64) (*cpuQuota, error) {
	if why := quotaUnavailable(); why != "" {
		return nil, errors.New(why)
	}
	q := &cpuQuota{l: quotaLayout, dir: filepath.Join(quotaLayout.root, fmt.Sprintf("uringd-bench-%d", pid)), pid: pid}
	if err := os.Mkdir(q.dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeQuota(q.l, q.dir, cpus); err != nil {
		os.Remove(q.dir)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(q.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		os.Remove(q.dir)
		return nil, err
	}
	return q, nil
}

// release moves the process back to the root group (if it still runs) and
// removes the group.
func (q *cpuQuota) release() {
	os.WriteFile(filepath.Join(q.l.root, "cgroup.procs"), []byte(strconv.Itoa(q.pid)), 0)
	os.Remove(q.dir)
}
