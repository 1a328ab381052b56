// Package assets holds the browser side of hotserve: the client script that
// every injected page loads from /__hotserve/client.js.
//
// The script is a readable, dependency-free file embedded at build time, so
// hotserve needs no JavaScript build step and no files beside its binary.
package assets

import _ "embed"

// ClientJS is the live-reload client. It opens one event stream and reloads
// the page when the server announces a build other than the one the page was
// served with (the data-build attribute of its own <script> tag).
//
//go:embed client.js
var ClientJS []byte
