package main

import (
	"errors"

	"golang.org/x/sys/windows"
)

// Windows reports socket errors as WSA codes, which syscall.EADDRINUSE
// and syscall.EACCES do not match there.

// addrInUse reports whether a listen failed because the port is taken.
func addrInUse(err error) bool { return errors.Is(err, windows.WSAEADDRINUSE) }

// accessDenied reports whether a listen failed for want of privileges.
func accessDenied(err error) bool { return errors.Is(err, windows.WSAEACCES) }
