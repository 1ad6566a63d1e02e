package s3dest_test

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// Goroutines sharing a Destination reuse its connections: 10 rounds of 16
// concurrent requests (the server answers once all 16 are in flight) open
// 16 connections, not 6 more each round past the transport's idle limit
// (the SDK's default keeps 10 per host and closes the others).
func TestConnectionsAreReused(t *testing.T) {
	const workers, rounds = 16, 10
	srv := withBucket(t)
	d := newDest(t, srv)
	put(t, d, "obj", "data")
	var mu sync.Mutex
	arrived, gate := 0, make(chan struct{})
	srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodHead {
			return false
		}
		mu.Lock()
		arrived++
		g := gate
		if arrived%workers == 0 { // the round is complete: answer them all
			close(gate)
			gate = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-g:
		case <-time.After(5 * time.Second): // a round that never fills
		}
		return false
	})
	before := srv.Conns()
	for range rounds { // all 16 connections are idle between rounds
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				if _, err := d.Stat(t.Context(), "obj"); err != nil {
					t.Errorf("Stat: %v", err)
				}
			})
		}
		wg.Wait()
	}
	if n := srv.Conns() - before; n > workers+4 {
		t.Errorf("%d rounds of %d concurrent requests opened %d connections, want about %d", rounds, workers, n, workers)
	}
}
