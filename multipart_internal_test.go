package s3dest

import (
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCRC32CCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	want := crc32.Checksum(data, crc32cTable)
	for range 200 {
		// Split at random points into up to 5 pieces.
		cuts := []int{0}
		for range rng.IntN(5) {
			cuts = append(cuts, rng.IntN(len(data)+1))
		}
		cuts = append(cuts, len(data))
		slices.Sort(cuts)
		got := crc32.Checksum(data[:cuts[1]], crc32cTable)
		for i := 2; i < len(cuts); i++ {
			piece := data[cuts[i-1]:cuts[i]]
			got = crc32cCombine(got, crc32.Checksum(piece, crc32cTable), int64(len(piece)))
		}
		if got != want {
			t.Fatalf("combining pieces cut at %v = %08x, want %08x", cuts, got, want)
		}
	}
}

func TestPartSizesReachFiveTiB(t *testing.T) {
	for _, base := range []int64{5 << 20, 8 << 20, 16 << 20, 100 << 20, 1 << 30, maxPartSize} {
		var total int64
		prev := int64(0)
		reached := 0
		for n := 1; n <= maxParts; n++ {
			size := partSizeAt(base, maxPartSize, n)
			if size < prev || size > maxPartSize || size < base {
				t.Fatalf("base %d: part %d is %d bytes after %d", base, n, size, prev)
			}
			prev = size
			total += size
			if total >= maxObjectSize && reached == 0 {
				reached = n
			}
		}
		if reached == 0 {
			t.Errorf("base %d: 10,000 parts hold %d bytes, less than 5 TiB", base, total)
		}
		if partSizeAt(base, maxPartSize, partsPerSize) != base {
			t.Errorf("base %d: parts grew before part %d", base, partsPerSize)
		}
	}
}

// WithMaxPartSize caps the growth of a stream's parts, and so its memory.
func TestPartSizesCapped(t *testing.T) {
	const base, limit = 16 << 20, 64 << 20
	for n := 1; n <= maxParts; n++ {
		if size := partSizeAt(base, limit, n); size > limit || size < base {
			t.Fatalf("part %d is %d bytes, want %d to %d", n, size, base, limit)
		}
	}
	if got := partSizeAt(base, limit, maxParts); got != limit {
		t.Errorf("the last part is %d bytes, want the cap %d", got, limit)
	}
	// The longest stream the cap allows, as WithMaxPartSize's doc quotes
	// it: 900 parts of 16 MiB, 900 of 32 MiB, 8,200 of 64 MiB.
	var total int64
	for n := 1; n <= maxParts; n++ {
		total += partSizeAt(base, limit, n)
	}
	if gib := total >> 30; gib != 554 {
		t.Errorf("10,000 parts capped at 64 MiB hold %d GiB, the doc says 554", gib)
	}
}
