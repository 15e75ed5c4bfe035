package static

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// root is the served directory. Every open resolves a name relative to it
// such that the result is beneath it, whatever symlinks or races say.
type root struct {
	dirfd int      // O_PATH|O_DIRECTORY fd of the root, for openat2
	osr   *os.Root // fallback when openat2 is missing (ENOSYS) or filtered (EPERM)
}

// openRoot opens dir. forceFallback makes it use os.Root even if openat2
// works (tests cover both ways).
func openRoot(dir string, forceFallback bool) (*root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("static: root %q: %w", dir, err)
	}
	r := &root{dirfd: fd}
	if forceFallback || !haveOpenat2(fd) {
		if r.osr, err = os.OpenRoot(dir); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("static: root %q: %w", dir, err)
		}
	}
	return r, nil
}

// haveOpenat2 probes openat2 once on the root itself.
func haveOpenat2(dirfd int) bool {
	fd, err := unix.Openat2(dirfd, ".", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH,
	})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

func (r *root) close() error {
	if r.osr != nil {
		r.osr.Close()
	}
	return unix.Close(r.dirfd)
}

// fileInfo is what a response needs to know about a file.
type fileInfo struct {
	size  int64
	mtime int64 // ns since the epoch
	ino   uint64
	ctime int64 // ns; not in the ETag, but catches a rewrite that kept size and mtime
	isDir bool
	isReg bool
}

func infoOf(st *unix.Stat_t) fileInfo {
	m := st.Mode & unix.S_IFMT
	return fileInfo{
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
		ino:   st.Ino,
		isDir: m == unix.S_IFDIR,
		isReg: m == unix.S_IFREG,
	}
}

// same reports whether a cached file is still the one on disk.
func (a fileInfo) same(b fileInfo) bool {
	return a.size == b.size && a.mtime == b.mtime && a.ino == b.ino && a.ctime == b.ctime
}

// open opens name ("" is the root) for reading and stats it. O_NONBLOCK
// keeps the open of a FIFO from waiting for a writer; only regular files and
// directories are ever read, and reads of those ignore O_NONBLOCK.
// Errors: errNotFound (missing, or the resolution would leave the root),
// errForbidden (permission), or another error (500).
func (r *root) open(name string) (fd int, fi fileInfo, err error) {
	if name == "" {
		name = "."
	}
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY
	if r.osr != nil {
		fd, err = r.openFallback(name, flags)
	} else {
		fd, err = openat2(r.dirfd, name, flags)
	}
	if err != nil {
		return -1, fileInfo{}, classify(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fileInfo{}, err
	}
	fi = infoOf(&st)
	if !fi.isReg && !fi.isDir {
		unix.Close(fd)
		return -1, fileInfo{}, errNotFound
	}
	return fd, fi, nil
}

func openat2(dirfd int, name string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags: uint64(flags),
		// BENEATH: refuse ".." above the root and absolute symlinks;
		// NO_MAGICLINKS: refuse /proc/self/fd-style jumps.
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(dirfd, name, &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		return fd, err
	}
}

// openFallback opens through os.Root (which checks every component) and
// keeps a dup of its descriptor, so both paths return a plain fd.
func (r *root) openFallback(name string, flags int) (int, error) {
	f, err := r.osr.OpenFile(name, flags, 0)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	sc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	cerr := sc.Control(func(raw uintptr) {
		fd, err = unix.FcntlInt(raw, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return -1, cerr
	}
	return fd, err
}

// statQuick stats name relative to the root in one syscall, following
// symlinks without the containment check: the revalidator's cheap test of
// "has this cached file changed?". It is safe because a cached entry is
// only ever replaced through open (RESOLVE_BENEATH): a name swapped for a
// symlink out of the root shows a different inode here, and the re-read
// through open then refuses it.
func (r *root) statQuick(name string) (fileInfo, error) {
	var st unix.Stat_t
	for {
		err := unix.Fstatat(r.dirfd, name, &st, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fileInfo{}, err
		}
		return infoOf(&st), nil
	}
}

var (
	errNotFound  = errors.New("static: not found")
	errForbidden = errors.New("static: forbidden")
)

// classify sorts an open error into 404 / 403 / other. EXDEV is openat2's
// "would leave the root", ELOOP a symlink loop or a refused magic link.
func classify(err error) error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EXDEV),
		errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENAMETOOLONG), errors.Is(err, unix.EINVAL):
		return errNotFound
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return errForbidden
	}
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent" {
		return errNotFound
	}
	return err
}

// preadFull reads len(b) bytes at off, or fewer at end of file (the file
// shrank since its stat: the caller detects the short count).
func preadFull(fd int, b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(fd, b[n:], off+int64(n))
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrUnexpectedEOF
		}
		n += m
	}
	return n, nil
}
