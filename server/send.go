package server

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/hotserve/hotserve/inject"
)

// How bytes go out. serveContent (files.go) decides what a response is;
// this file sends it with as few system calls and allocations as it can:
// pooled buffers for small files and pages, one write for what is in
// memory, sendfile for the file part of big ones, and a cache of where the
// tag goes in pages already seen. net/http's fs.go splits serveFile from
// serveContent the same way.

// file is what serveContent needs of an open file.
type file interface {
	io.ReaderAt
	io.ReadSeeker
}

// maxBuffered is the largest page read whole into memory before it is
// injected and sent; see serveContent. Bigger pages are streamed with
// sendfile: on a loopback load test a 1 MB page written from memory gave
// more requests per second than sendfile but a p99 latency 1.6 times the
// FileServer's, while sendfile matched it on both; and nearly every page a
// person edits is far smaller than this.
const maxBuffered = 256 << 10

// htmlPage is a page about to be injected: read whole into a pooled buffer
// (up to maxBuffered), or left in its file to be spliced while it is sent.
type htmlPage struct {
	src  file   // the page's bytes: the buffer's, or the file
	size int64  // how many bytes src holds
	buf  []byte // when read whole: room for the tag, then the page; else nil
	room int    // the room left before the page in buf
}

// readHTML prepares f, a page of about size bytes, to be sent with a tag of
// room bytes inserted. Call release once the response is written.
func readHTML(f file, size int64, room int) (htmlPage, error) {
	if size > maxBuffered {
		return htmlPage{src: f, size: size}, nil
	}
	buf, err := readPage(f, size, room)
	if err != nil {
		return htmlPage{}, err
	}
	page := buf[room:]
	return htmlPage{src: bytes.NewReader(page), size: int64(len(page)), buf: buf, room: room}, nil
}

// release gives a read page's buffer back to the pool.
func (p *htmlPage) release() {
	if p.buf != nil {
		putPage(p.buf)
	}
}

// sendPage sends the page with tag inserted at offset at. A page read whole
// is assembled in place and written at once; a big one is spliced from its
// file, the part after the tag going out with sendfile.
func sendPage(w http.ResponseWriter, r *http.Request, name string, p *htmlPage, at int64, tag []byte) {
	if p.buf != nil {
		// The prefix moves down over the room left for the tag, the
		// tag goes after it.
		copy(p.buf, p.buf[p.room:p.room+int(at)])
		copy(p.buf[at:], tag)
		http.ServeContent(onceWriter{w}, r, name, zeroTime, &memReader{b: p.buf})
		return
	}
	http.ServeContent(onceWriter{w}, r, name, zeroTime, &splice{f: p.src, size: p.size, at: at, tag: tag})
}

// sendFile sends f, of size bytes, as it is. It fails only before anything
// was written, so the caller can still answer with an error.
func sendFile(w http.ResponseWriter, r *http.Request, name string, f file, size int64) error {
	if r.Method == http.MethodGet && size < pooledPage {
		if _, ok := f.(*os.File); ok {
			// A small file costs fewer system calls read whole and sent
			// in one write than sent by ServeContent's ReadFrom, which
			// reads 512 bytes, writes them with the headers, then calls
			// sendfile for the rest. Big files keep sendfile.
			buf, err := readPage(f, size, 0)
			if err != nil {
				return err
			}
			defer putPage(buf)
			http.ServeContent(onceWriter{w}, r, name, zeroTime, &memReader{b: buf})
			return nil
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	http.ServeContent(w, r, name, zeroTime, f)
	return nil
}

// readPage reads a file of about size bytes whole into one buffer that
// starts with room spare bytes, so that the injected page can be assembled
// in it without another allocation. A file that grew since its size was
// taken is read to its end, up to maxBuffered. Give the buffer back with
// putPage once the response is written.
func readPage(f io.ReaderAt, size int64, room int) ([]byte, error) {
	buf := getPage(room + int(size) + 1)
	n, err := f.ReadAt(buf[room:], 0)
	if err != nil && err != io.EOF {
		putPage(buf)
		return nil, err
	}
	buf = buf[:room+n]
	if n == int(size)+1 {
		rest, err := io.ReadAll(io.NewSectionReader(f, int64(n), maxBuffered-int64(n)))
		if err != nil {
			return nil, err
		}
		buf = append(buf, rest...)
	}
	return buf, nil
}

// pooledPage is the size of the buffers small files and pages are read
// into; bigger pages, up to maxBuffered, use bigger pooled buffers.
const pooledPage = 64 << 10

// pageClasses are the buffer sizes kept for reuse, the last one fitting the
// biggest page read whole with room for its tag, so that serving a page
// allocates nothing for its body.
var pageClasses = [...]int{pooledPage, maxBuffered + 4<<10}

var pagePools [len(pageClasses)]sync.Pool

func getPage(n int) []byte {
	for i, size := range pageClasses {
		if n <= size {
			if b, ok := pagePools[i].Get().(*[]byte); ok {
				return (*b)[:n]
			}
			return make([]byte, n, size)
		}
	}
	return make([]byte, n)
}

func putPage(b []byte) {
	for i, size := range pageClasses {
		if cap(b) == size {
			b = b[:0]
			pagePools[i].Put(&b)
			return
		}
	}
}

// memReader is a page in memory, as http.ServeContent reads it: it can seek
// (for Range requests) and onceWriter can take its bytes without copying.
type memReader struct {
	b   []byte
	off int64
}

func (m *memReader) Read(p []byte) (int, error) {
	if m.off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[m.off:])
	m.off += int64(n)
	return n, nil
}

func (m *memReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += m.off
	case io.SeekEnd:
		offset += int64(len(m.b))
	}
	if offset < 0 {
		return 0, errors.New("memReader: negative position")
	}
	m.off = offset
	return offset, nil
}

// onceWriter sends a memReader's bytes in one Write, and a splice's with
// sendfile for its file part (see splice.writeTo). http.ServeContent
// copies the body with io.CopyN, which would otherwise go through the
// ResponseWriter's ReadFrom (headers and 512 bytes in one write, the rest
// in another) or through a fresh copy buffer.
type onceWriter struct{ http.ResponseWriter }

func (w onceWriter) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if sp, ok := lr.R.(*splice); ok {
			n, err := sp.writeTo(w.ResponseWriter, lr.N)
			lr.N -= n
			return n, err
		}
		if m, ok := lr.R.(*memReader); ok {
			end := min(m.off+lr.N, int64(len(m.b)))
			n, err := w.Write(m.b[m.off:end])
			m.off += int64(n)
			lr.N -= int64(n)
			return int64(n), err
		}
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

// splice reads as a file with tag inserted at offset at, without copying the
// file into memory: a 10 MB page costs no more to serve than to send. It is
// an io.ReadSeeker, so http.ServeContent can answer Range requests on the
// injected page.
type splice struct {
	f    io.ReaderAt
	size int64 // the file's size when it was opened
	at   int64 // where the tag goes, 0 ≤ at ≤ size
	tag  []byte
	pos  int64
}

func (s *splice) len() int64 { return s.size + int64(len(s.tag)) }

func (s *splice) Read(p []byte) (int, error) {
	end := s.at + int64(len(s.tag))
	switch {
	case s.pos >= s.len():
		return 0, io.EOF
	case s.pos < s.at:
		p = p[:min(int64(len(p)), s.at-s.pos)]
		return s.readFile(p, s.pos)
	case s.pos < end:
		n := copy(p, s.tag[s.pos-s.at:])
		s.pos += int64(n)
		return n, nil
	default:
		p = p[:min(int64(len(p)), s.len()-s.pos)]
		return s.readFile(p, s.pos-int64(len(s.tag)))
	}
}

// readFile reads from the file at off. A file that shrank since it was
// opened makes the read fail rather than send a short body under a
// Content-Length that promised more.
func (s *splice) readFile(p []byte, off int64) (int, error) {
	n, err := s.f.ReadAt(p, off)
	s.pos += int64(n)
	if err == io.EOF {
		if n == len(p) {
			return n, nil
		}
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (s *splice) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.len()
	default:
		return 0, errors.New("splice: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("splice: negative position")
	}
	s.pos = offset
	return offset, nil
}

// writeTo sends the next n bytes of the spliced page to w, which should be
// the ResponseWriter itself. The part before the tag and the tag go through
// a pooled buffer; the rest of the file is handed to w as an
// io.LimitedReader of the *os.File, which net/http sends with sendfile, so
// a big page costs what the file would without the tag. A file that shrank
// since it was opened makes writeTo fail rather than send a short body.
func (s *splice) writeTo(w io.Writer, n int64) (int64, error) {
	var written int64
	end := s.at + int64(len(s.tag))
	if s.pos < end && n > 0 {
		buf := getPage(int(min(end-s.pos, n)))
		defer putPage(buf)
		k, err := io.ReadFull(s, buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return int64(k), werr
			}
		}
		written += int64(k)
		if err != nil {
			return written, err
		}
	}
	rest := min(n-written, s.len()-s.pos)
	if rest <= 0 {
		return written, nil
	}
	f, ok := s.f.(*os.File)
	if !ok {
		k, err := io.CopyN(struct{ io.Writer }{w}, s, rest)
		return written + k, err
	}
	if _, err := f.Seek(s.pos-int64(len(s.tag)), io.SeekStart); err != nil {
		return written, err
	}
	k, err := io.Copy(w, io.LimitReader(f, rest))
	s.pos += k
	written += k
	if err == nil && k < rest {
		err = io.ErrUnexpectedEOF
	}
	return written, err
}

// pointCache remembers where the tag goes in pages already seen. Finding
// the point means tokenizing the top of the page, and the tokenizer
// allocates a fresh 4 KB buffer every time; yet a page is requested far
// more often than it changes. inject.Find depends on nothing but the bytes
// of the page, so the same bytes give the same answer: the cache is keyed by a hash of the
// whole page (of the top Find read, for a spliced page; see findSpliced),
// never by its name or modification time, and a page edited in any way
// that matters to the answer simply misses.
type pointCache struct {
	seed maphash.Seed // for whole pages
	top  maphash.Seed // for the tops of spliced pages; see findSpliced
	mu   sync.Mutex
	m    map[uint64]inject.Point
}

// maxCachedPage bounds the pages worth caching: hashing a page costs more
// than finding its point once pages grow large, since Find reads only the
// top of a page.
const maxCachedPage = 64 << 10

// maxCachedPoints bounds the cache; it is emptied when full, which costs
// one Find per page afterwards.
const maxCachedPoints = 1024

func newPointCache() *pointCache {
	return &pointCache{seed: maphash.MakeSeed(), top: maphash.MakeSeed(), m: make(map[uint64]inject.Point)}
}

// find returns inject.Find's answer for page and tag, from the cache when
// it can. Find reads only the tag's src, which is always
// assets.ClientPath, so the answer does not depend on the rest of the tag
// (build, tree, nonce) and the cache need not key on it.
func (c *pointCache) find(page, tag []byte) (inject.Point, error) {
	if len(page) > maxCachedPage {
		return inject.Find(bytes.NewReader(page), tag)
	}
	key := maphash.Bytes(c.seed, page)
	if pt, ok := c.get(key); ok {
		return pt, nil
	}
	pt, err := inject.Find(bytes.NewReader(page), tag)
	if err != nil {
		return pt, err
	}
	c.put(key, pt)
	return pt, nil
}

func (c *pointCache) get(key uint64) (inject.Point, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[key]
	return f, ok
}

func (c *pointCache) put(key uint64, f inject.Point) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedPoints {
		clear(c.m)
	}
	c.m[key] = f
}

// spliceTop is how much of the top of a spliced page findSpliced reads and
// hashes. inject.Find stops within the first few hundred bytes of nearly
// every page (after <head>, or after the <meta> tags that must come first),
// so a page whose point lies further down is simply never cached.
const spliceTop = 8 << 10

// findSpliced returns inject.Find's answer for a page too big to be read
// whole (see maxBuffered). Hashing a whole big page would cost more than
// Find, but Find's answer depends only on the bytes it read, and it reads
// only the top of a page: when it asked for nothing past the first
// spliceTop bytes, the answer is remembered under a hash of those bytes,
// and any page that starts with the same spliceTop bytes gets it, whatever
// follows, since Find would not have looked there either. An edit within
// them misses, as with whole pages. Without the cache, a 1 MB page
// tokenized its top, and allocated the tokenizer's 4 KB buffer, on every
// request: under load hotserve then collected garbage once every 240 or
// so requests, the FileServer once every 950.
func (c *pointCache) findSpliced(src io.ReaderAt, size int64, tag []byte) (inject.Point, error) {
	top := getPage(spliceTop)
	defer putPage(top)
	// A page no bigger than its top (never spliced in practice), or one
	// that shrank since it was opened, is searched as it is: Find reports
	// what reading it does.
	if size > spliceTop {
		if _, err := src.ReadAt(top, 0); err == nil {
			return c.findByTop(src, size, top, tag)
		}
	}
	return inject.Find(io.NewSectionReader(src, 0, size), tag)
}

// findByTop is findSpliced for a page whose first spliceTop bytes are top.
func (c *pointCache) findByTop(src io.ReaderAt, size int64, top, tag []byte) (inject.Point, error) {
	key := maphash.Bytes(c.top, top)
	if pt, ok := c.get(key); ok {
		return pt, nil
	}
	rest := &touched{r: io.NewSectionReader(src, spliceTop, size-spliceTop)}
	pt, err := inject.Find(io.MultiReader(bytes.NewReader(top), rest), tag)
	if err == nil && !rest.read {
		c.put(key, pt)
	}
	return pt, err
}

// touched reports whether anything was read from r.
type touched struct {
	r    io.Reader
	read bool
}

func (t *touched) Read(p []byte) (int, error) {
	t.read = true
	return t.r.Read(p)
}

// pointOf returns where the tag goes in p.
func (c *pointCache) pointOf(p *htmlPage, tag []byte) (inject.Point, error) {
	if p.buf == nil {
		return c.findSpliced(p.src, p.size, tag)
	}
	return c.find(p.buf[p.room:], tag)
}
