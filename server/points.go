package server

import (
	"bytes"
	"hash/maphash"
	"sync"

	"github.com/hotserve/hotserve/inject"
)

// pointCache remembers where the tag goes in pages already seen. Finding
// the point means tokenizing the top of the page, and the tokenizer
// allocates a fresh 4 KB buffer every time; yet a page is requested far
// more often than it changes. inject.Find depends on nothing but the bytes
// of the page, so the same bytes give the same point: the cache is keyed by
// a hash of the whole page, never by its name or modification time, and a
// page edited in any way simply misses.
type pointCache struct {
	seed maphash.Seed
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
	return &pointCache{seed: maphash.MakeSeed(), m: make(map[uint64]inject.Point)}
}

// find returns inject.Find's answer for page, from the cache when it can.
func (c *pointCache) find(page []byte) (inject.Point, error) {
	if len(page) > maxCachedPage {
		return inject.Find(bytes.NewReader(page))
	}
	key := maphash.Bytes(c.seed, page)
	c.mu.Lock()
	pt, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return pt, nil
	}
	pt, err := inject.Find(bytes.NewReader(page))
	if err != nil {
		return pt, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedPoints {
		clear(c.m)
	}
	c.m[key] = pt
	c.mu.Unlock()
	return pt, nil
}
