// Package assets holds the browser side of hotserve and the protocol the
// server speaks with it (protocol.go): the URL prefix, the script tag every
// page gets, and the event the stream announces. The scripts are the client
// every injected page loads from Prefix+"client.js", the worker it starts to
// hold the event stream, and the waiting page's script; each finds the
// others and the endpoints relative to its own URL.
//
// The script is a readable, dependency-free file embedded at build time, so
// hotserve needs no JavaScript build step and no files beside its binary.
package assets

import _ "embed"

// ClientJS is the live-reload client. It joins the browser's one event
// stream (through WorkerJS) and applies each announced change to its page:
// stylesheets and images in place, a reload only when the page used what
// changed or missed an announcement.
//
//go:embed client.js
var ClientJS []byte

// WorkerJS owns the event stream. Run as a SharedWorker it serves every tab
// of the origin over one connection; run as a dedicated worker it serves the
// one tab that started it (the elected leader, or each tab where Web Locks
// are missing too).
//
//go:embed worker.js
var WorkerJS []byte

// WaitingJS runs on the page hotserve shows while a backend does not
// answer. It asks Prefix+"backend" whether the backend serving the
// page's path is back, and reloads the page when it is. It is a file, not
// inline code, so that a "script-src 'self'" policy lets it run.
//
//go:embed waiting.js
var WaitingJS []byte
