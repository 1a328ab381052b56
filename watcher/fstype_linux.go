package watcher

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// fsType returns the statfs magic number of the filesystem holding dir. A
// variable so that tests can pretend to be on NFS.
var fsType = func(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Type), nil
}

// unwatchable names the filesystems, by statfs magic number, on which
// inotify misses changes: network filesystems report only changes made
// through this machine's own kernel, and FUSE (sshfs, virtiofs, and most
// container shares) and 9p (WSL2's /mnt/c, many VM shares) report none from
// the other side.
var unwatchable = map[int64]string{
	unix.NFS_SUPER_MAGIC:   "NFS",
	unix.SMB_SUPER_MAGIC:   "SMB",
	unix.SMB2_SUPER_MAGIC:  "SMB",
	unix.CIFS_SUPER_MAGIC:  "CIFS",
	unix.FUSE_SUPER_MAGIC:  "FUSE",
	unix.V9FS_MAGIC:        "9p",
	unix.CEPH_SUPER_MAGIC:  "Ceph",
	unix.AFS_FS_MAGIC:      "AFS",
	unix.AFS_SUPER_MAGIC:   "AFS",
	unix.CODA_SUPER_MAGIC:  "Coda",
	unix.XENFS_SUPER_MAGIC: "xenfs",
}

// limitHint says which kernel limit a refused watch ran into, its current
// value if it can be read, and the command that raises it.
func limitHint(enospc bool) string {
	if enospc {
		return "the inotify watch limit fs.inotify.max_user_watches" + current("max_user_watches") +
			" is reached; raise it with \"sudo sysctl fs.inotify.max_user_watches=524288\""
	}
	return "the inotify instance limit fs.inotify.max_user_instances" + current("max_user_instances") +
		" or the open-file limit (ulimit -n) is reached; raise it with \"sudo sysctl fs.inotify.max_user_instances=1024\" or \"ulimit -n 65536\""
}

func current(name string) string {
	b, err := os.ReadFile("/proc/sys/fs/inotify/" + name)
	if err != nil {
		return ""
	}
	return " (now " + strings.TrimSpace(string(b)) + ")"
}
