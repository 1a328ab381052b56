package inject

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/hotserve/hotserve/assets"
)

// page returns a realistic document of about size bytes: a head with a few
// tags, then paragraphs of body text.
func page(size int) []byte {
	var b bytes.Buffer
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  <title>Benchmark</title>\n  <link rel=\"stylesheet\" href=\"/css/site.css\">\n</head>\n<body>\n")
	para := "<p>" + strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 4) + "</p>\n"
	for b.Len() < size-len("</body></html>\n") {
		b.WriteString(para)
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

var sizes = []struct {
	name string
	n    int
}{{"2KB", 2 << 10}, {"100KB", 100 << 10}, {"1MB", 1 << 20}, {"10MB", 10 << 20}}

// benchTag is the tag the benchmarks place.
var benchTag = assets.Tag(1732000000000)

// BenchmarkFind measures deciding where the tag goes: it must not grow with
// the page, since only the top is tokenized.
func BenchmarkFind(b *testing.B) {
	for _, s := range sizes {
		doc := page(s.n)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if p, err := Find(bytes.NewReader(doc), benchTag); err != nil || !p.OK {
					b.Fatal(p, err)
				}
			}
		})
	}
}

// BenchmarkInject measures streaming a whole page with the tag through to a
// writer, as the proxy path does.
func BenchmarkInject(b *testing.B) {
	tag := benchTag
	for _, s := range sizes {
		doc := page(s.n)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if ok, err := Inject(io.Discard, bytes.NewReader(doc), tag); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func TestBenchPageIsADocument(t *testing.T) {
	for _, s := range sizes {
		doc := page(s.n)
		if len(doc) < s.n-200 || len(doc) > s.n+200 {
			t.Errorf("%s: got %d bytes", s.name, len(doc))
		}
		if p, err := Find(bytes.NewReader(doc), benchTag); err != nil || !p.OK {
			t.Errorf("%s: %v %v", s.name, p, err)
		}
	}
}
