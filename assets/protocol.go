package assets

import (
	"strconv"

	"golang.org/x/net/html"
)

// The browser protocol: what the server and the scripts in this package
// agree on. The scripts name no path of their own; each finds the others
// and the endpoints relative to the URL it was loaded from, so Prefix is
// the one place that says where they live.

// Prefix is the URL path prefix hotserve reserves for itself: the scripts
// (Prefix+"client.js", "worker.js", "waiting.js") and the endpoints
// ("events", the event stream; "reload", the trigger; "backend", the
// waiting page's question).
const Prefix = "/__hotserve/"

// ClientPath is the URL path of the client script, the src of the tag
// every page gets.
const ClientPath = Prefix + "client.js"

// Event is what the event stream announces, as the JSON data of one
// server-sent event whose id is Build, followed by "." and Tree when Tree
// is not empty.
type Event struct {
	// Build is the new build id; pages carry the one they were sent with
	// in their tag's data-build.
	Build int64 `json:"build"`
	// Previous is the build this one replaces. A page whose build is
	// neither Build nor Previous missed an announcement and reloads.
	Previous int64 `json:"previous"`
	// Tree is the fingerprint of the served files, if known; see the
	// tag's data-tree.
	Tree string `json:"tree,omitempty"`
	// Paths are the changed URL paths without the leading slash; never
	// nil, so that it is sent as [].
	Paths []string `json:"paths"`
	// Reload makes every page reload, whatever it uses.
	Reload bool `json:"reload,omitempty"`
	// ReloadHTML asks the client to reload for a changed page it shows
	// instead of morphing the new markup into it (Options.ReloadHTML).
	ReloadHTML bool `json:"reloadHTML,omitempty"`
}

// Tag returns the tag hotserve inserts for build:
//
//	<script src="/__hotserve/client.js" data-build="BUILD" async></script>
//
// with BUILD in decimal. The script is external so that pages with a
// "script-src 'self'" policy still run it, and async so that it never delays
// rendering.
func Tag(build int64) []byte { return TagWithNonce(build, "") }

// TagWithNonce is Tag with a nonce attribute, for pages whose
// Content-Security-Policy allows scripts by nonce only:
//
//	<script src="/__hotserve/client.js" data-build="BUILD" nonce="NONCE" async></script>
//
// The nonce is escaped as an attribute value. An empty nonce gives exactly
// the tag Tag returns.
func TagWithNonce(build int64, nonce string) []byte { return TagWithTree(build, "", nonce) }

// TagWithTree is TagWithNonce with a data-tree attribute holding tree, a
// fingerprint of the served files, when it is not empty:
//
//	<script src="/__hotserve/client.js" data-build="BUILD" data-tree="TREE" async></script>
//
// The client compares it with the fingerprint a restarted server
// announces, which changes when a file changed to an older time while
// nothing watched. The fingerprint is escaped as an attribute value.
func TagWithTree(build int64, tree, nonce string) []byte {
	b := make([]byte, 0, 100+len(tree)+len(nonce))
	b = append(b, `<script src="`...)
	b = append(b, ClientPath...)
	b = append(b, `" data-build="`...)
	b = strconv.AppendInt(b, build, 10)
	if tree != "" {
		b = append(b, `" data-tree="`...)
		b = append(b, html.EscapeString(tree)...)
	}
	if nonce != "" {
		b = append(b, `" nonce="`...)
		b = append(b, html.EscapeString(nonce)...)
	}
	b = append(b, `" async></script>`...)
	return b
}
