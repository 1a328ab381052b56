package assets

import (
	"bytes"
	"testing"
)

func TestTag(t *testing.T) {
	tests := []struct {
		name  string
		build int64
		want  string
	}{
		{"a build is written in decimal", 1700000000123, `<script src="/__hotserve/client.js" data-build="1700000000123" async></script>`},
		{"build zero is written as 0", 0, `<script src="/__hotserve/client.js" data-build="0" async></script>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Tag(tt.build)); got != tt.want {
				t.Errorf("Tag(%d) = %q, want %q", tt.build, got, tt.want)
			}
		})
	}
}

func TestTagWithNonce(t *testing.T) {
	tests := []struct {
		name  string
		nonce string
		want  string
	}{
		{name: "no nonce gives exactly Tag", nonce: "", want: string(Tag(42))},
		{name: "a nonce goes before async", nonce: "r4nd0m", want: `<script src="/__hotserve/client.js" data-build="42" nonce="r4nd0m" async></script>`},
		{name: "a nonce is escaped", nonce: `"><x`, want: `<script src="/__hotserve/client.js" data-build="42" nonce="&#34;&gt;&lt;x" async></script>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(TagWithNonce(42, tt.nonce)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestScriptsNameNoPath holds the scripts to finding each other and the
// endpoints relative to their own URL, so that Prefix stays the one place
// that says where they live.
func TestScriptsNameNoPath(t *testing.T) {
	for name, js := range map[string][]byte{"client.js": ClientJS, "worker.js": WorkerJS, "waiting.js": WaitingJS} {
		if bytes.Contains(js, []byte(Prefix)) {
			t.Errorf("%s spells out %s; resolve the path against the script's own URL instead", name, Prefix)
		}
	}
}
