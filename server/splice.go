package server

import (
	"errors"
	"io"
	"os"
)

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
