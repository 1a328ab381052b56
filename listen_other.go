//go:build !windows

package main

import (
	"errors"
	"syscall"
)

// addrInUse reports whether a listen failed because the port is taken.
func addrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

// accessDenied reports whether a listen failed for want of privileges.
func accessDenied(err error) bool { return errors.Is(err, syscall.EACCES) }
