//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// asNobody runs cmd as uid 65534 when the tests run as root, who can read
// any folder.
func asNobody(cmd *exec.Cmd) {
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}
