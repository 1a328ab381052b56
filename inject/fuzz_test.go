package inject

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/hotserve/hotserve/assets"
)

func FuzzInject(f *testing.F) {
	for _, tc := range injectCases {
		f.Add([]byte(tc.in))
		f.Add([]byte(strings.ReplaceAll(tc.want, "{TAG}", string(testTag))))
	}
	for _, s := range []string{
		"",
		"<",
		"<a",
		"</",
		"<!--",
		"<!-- </body> -->",
		"<script>var s='</body>'</script></body>",
		"<textarea></body></textarea></body>",
		"<title></body></title>",
		"<body><template></body></template>",
		"<plaintext></body>",
		"<!DOCTYPE html><a",
		"\xEF\xBB\xBF<a",
		"\xFF\xFE<\x00b\x00>",
		"<a b=/>",
		"</BODY></Body>",
		"<![CDATA[</body>]]>",
		"<?php </body> ?>",
		"<!DOCTYPE html>\n<!-- c -->\n<title>x</title>",
		"<!DOCTYPE html>\n<!-- not closed",
		"<!DOCTYPE html><!--!>",
		"<!-- a --><!---->",
		"\n  text <p>",
		"</div>\n<html a=1>\n</p><html b=2>\n<body>",
		"<!DOCTYPE html>\n</br>",
		"<!DOCTYPE html>\n<frameset><frame></frameset>",
		"\x00<!DOCTYPE html>\x00<p>\x00",
		"\xEF\xBB\xBF\r\n<!-- c -->\f<HTML>\r<HEAD lang=x>",
		"<!DOCTYPE html><template><head></template><svg><title><head>",
	} {
		f.Add([]byte(s))
	}

	tag := assets.Tag(12345)
	startTag := tag[:bytes.IndexByte(tag, '>')+1]
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Find(bytes.NewReader(in), tag)
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		var buf bytes.Buffer
		injected, err := Inject(&buf, bytes.NewReader(in), tag)
		if err != nil {
			t.Fatalf("Inject: %v", err)
		}
		out := buf.Bytes()
		if injected != p.OK {
			t.Fatalf("Inject reported injected=%v, Find = %+v", injected, p)
		}
		if p.OK != (p.Reason == None) {
			t.Fatalf("Find = %+v: OK and Reason disagree", p)
		}

		if !injected {
			if !bytes.Equal(out, in) {
				t.Fatalf("not injected, but output differs from input:\n in %q\nout %q", in, out)
			}
			if p.Reason == Fragment {
				checkFragmentOffset(t, in, tag, p.Offset)
			}
		} else {
			off := p.Offset
			if off < 0 || off > int64(len(in)) {
				t.Fatalf("offset %d out of range for %d bytes", off, len(in))
			}
			if len(out) != len(in)+len(tag) {
				t.Fatalf("output has %d bytes, want %d+%d", len(out), len(in), len(tag))
			}
			if !bytes.Equal(out[off:off+int64(len(tag))], tag) {
				t.Fatalf("tag not at offset %d in %q", off, out)
			}
			removed := append(bytes.Clone(out[:off]), out[off+int64(len(tag)):]...)
			if !bytes.Equal(removed, in) {
				t.Fatalf("output without the tag differs from input:\n in %q\nout %q", in, out)
			}
			if bytes.HasPrefix(in, utf8BOM) && off < 3 {
				t.Fatalf("offset %d is inside the byte order mark", off)
			}
			if end := leadingDoctypeEnd(in); off < end {
				t.Fatalf("offset %d is before the end of the leading doctype at %d", off, end)
			}
			if raw := tokenAt(out, off); !bytes.Equal(raw, startTag) {
				t.Fatalf("the token at offset %d is %q, want the tag's start tag %q", off, raw, startTag)
			}
			if want, got := tree(in, false), tree(out, true); got != want && !cutOffComment(in[off:]) {
				t.Fatalf("the tag changes the parsed tree:\n in %q\nout %q\nfile tree\n%s\nserved tree\n%s", in, out, want, got)
			}
		}

		if got, max := bytes.Count(out, tag), bytes.Count(in, tag)+1; got > max {
			t.Fatalf("output has %d tags, want at most %d", got, max)
		}

		var again bytes.Buffer
		if _, err := Inject(&again, bytes.NewReader(out), tag); err != nil {
			t.Fatalf("Inject again: %v", err)
		}
		if !bytes.Equal(again.Bytes(), out) {
			t.Fatalf("Inject is not idempotent:\nonce  %q\ntwice %q", out, again.Bytes())
		}
	})
}

// tree parses b as a browser would (with scripting on, after dropping a
// UTF-8 byte order mark, as browsers do) and renders the tree: node types,
// namespaces, names, attributes, text, template contents and quirks mode.
// With ours set, the one script element whose src is assets.ClientPath is left
// out; it must be there.
func tree(b []byte, ours bool) string {
	doc, err := html.Parse(bytes.NewReader(bytes.TrimPrefix(b, utf8BOM)))
	if err != nil {
		return "error: " + err.Error()
	}
	var sb strings.Builder
	found := false
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if ours && !found && c.Type == html.ElementNode && c.Data == "script" && c.Namespace == "" &&
				len(c.Attr) > 0 && c.Attr[0].Key == "src" && c.Attr[0].Val == assets.ClientPath {
				found = true
				continue
			}
			fmt.Fprintf(&sb, "%*s%d %s %q %q\n", depth, "", c.Type, c.Namespace, c.Data, c.Attr)
			walk(c, depth+1)
		}
	}
	walk(doc, 0)
	if ours && !found {
		return "no script element for the tag"
	}
	return sb.String()
}

// cutOffComment reports whether b is one comment that the end of the input
// cuts off: the one place where no offset keeps the tree, since the tag
// cannot go inside the comment, and before it moves the comment into <head>.
func cutOffComment(b []byte) bool {
	z := html.NewTokenizer(bytes.NewReader(b))
	tt := z.Next()
	return (tt == html.CommentToken || tt == html.DoctypeToken) && len(z.Raw()) == len(b) && !closedComment(z.Raw())
}

// leadingDoctypeEnd returns the offset just after a doctype that is the
// first token of b (after a UTF-8 byte order mark), or 0 when there is none.
func leadingDoctypeEnd(b []byte) int64 {
	start := 0
	if bytes.HasPrefix(b, utf8BOM) {
		start = len(utf8BOM)
	}
	z := html.NewTokenizer(bytes.NewReader(b[start:]))
	if z.Next() != html.DoctypeToken {
		return 0
	}
	return int64(start + len(z.Raw()))
}

// tokenAt tokenizes b and returns the raw bytes of the start tag for a
// script that begins at off, or nil when no such token begins there.
func tokenAt(b []byte, off int64) []byte {
	z := html.NewTokenizer(bytes.NewReader(b))
	var pos int64
	for pos <= off {
		tt := z.Next()
		if tt == html.ErrorToken {
			return nil
		}
		// Clone before TagName, which lower-cases the name in place.
		raw := bytes.Clone(z.Raw())
		if pos == off && tt == html.StartTagToken {
			if name, _ := z.TagName(); string(name) == "script" {
				return raw
			}
		}
		pos += int64(len(raw))
	}
	return nil
}

// checkFragmentOffset checks that splicing the tag into a fragment at the
// offset Find gave makes it a real <script> start tag, never text inside a
// comment or another tag, and never before a byte order mark.
func checkFragmentOffset(t *testing.T, in, tag []byte, off int64) {
	t.Helper()
	if off < 0 || off > int64(len(in)) {
		t.Fatalf("fragment offset %d out of range for %d bytes", off, len(in))
	}
	if bytes.HasPrefix(in, utf8BOM) && off < 3 {
		t.Fatalf("fragment offset %d is inside the byte order mark", off)
	}
	out := append(append(bytes.Clone(in[:off]), tag...), in[off:]...)
	z := html.NewTokenizer(bytes.NewReader(bytes.TrimPrefix(out, utf8BOM)))
	pos := int64(0)
	if bytes.HasPrefix(out, utf8BOM) {
		pos = 3
	}
	for pos < off {
		if z.Next() == html.ErrorToken {
			t.Fatalf("fragment offset %d: tokens end at %d in %q", off, pos, out)
		}
		pos += int64(len(z.Raw()))
	}
	if pos != off {
		t.Fatalf("fragment offset %d falls inside a token ending at %d in %q", off, pos, out)
	}
	if tt := z.Next(); tt != html.StartTagToken || !bytes.HasPrefix(tag, z.Raw()) {
		t.Fatalf("fragment offset %d: the tag reads as %v %q in %q", off, tt, z.Raw(), out)
	}
}
