package server

import (
	"bytes"
	"hash/maphash"
	"sync"

	"github.com/hotserve/hotserve/inject"
)

// pointCache remembers where the tag goes in pages already seen, and their
// Content-Type. Finding the point means tokenizing the top of the page, and
// the tokenizer allocates a fresh 4 KB buffer every time (so does finding a
// <meta charset>); yet a page is requested far more often than it changes.
// inject.Find and pageType depend on nothing but the bytes of the page, so
// the same bytes give the same answers: the cache is keyed by a hash of the
// whole page, never by its name or modification time, and a page edited in
// any way simply misses.
type pointCache struct {
	seed maphash.Seed
	mu   sync.Mutex
	m    map[uint64]pageFacts
}

// pageFacts is what pointCache remembers of a page.
type pageFacts struct {
	pt    inject.Point
	ctype string // see pageType
}

// maxCachedPage bounds the pages worth caching: hashing a page costs more
// than finding its point once pages grow large, since Find reads only the
// top of a page.
const maxCachedPage = 64 << 10

// maxCachedPoints bounds the cache; it is emptied when full, which costs
// one Find per page afterwards.
const maxCachedPoints = 1024

func newPointCache() *pointCache {
	return &pointCache{seed: maphash.MakeSeed(), m: make(map[uint64]pageFacts)}
}

// find returns inject.Find's answer for page and pageType's, from the cache
// when it can.
func (c *pointCache) find(page []byte) (inject.Point, string, error) {
	if len(page) > maxCachedPage {
		f, err := factsOf(page)
		return f.pt, f.ctype, err
	}
	key := maphash.Bytes(c.seed, page)
	c.mu.Lock()
	f, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return f.pt, f.ctype, nil
	}
	f, err := factsOf(page)
	if err != nil {
		return f.pt, f.ctype, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedPoints {
		clear(c.m)
	}
	c.m[key] = f
	c.mu.Unlock()
	return f.pt, f.ctype, nil
}

func factsOf(page []byte) (pageFacts, error) {
	pt, err := inject.Find(bytes.NewReader(page))
	if err != nil {
		return pageFacts{}, err
	}
	return pageFacts{pt, pageType(bytes.NewReader(page), int64(len(page)))}, nil
}
