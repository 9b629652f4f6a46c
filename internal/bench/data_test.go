package bench

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// The cached-prefix digest must equal a full hash of the streamed bytes, for
// sizes around the tail and block boundaries, and differ for every uniq.
func TestContentDigestMatchesStream(t *testing.T) {
	c := newContent(7)
	seen := map[digest.Digest]string{}
	for _, size := range []int64{1, 15, 100, tailSize - 1, tailSize, tailSize + 1, blockSize - 3, blockSize + 5000, 3*blockSize + 1} {
		for _, uniq := range []uint64{0, 1, 2, 1 << 40} {
			r := c.reader(size, uniq)
			v := digest.SHA256.Digester()
			n, err := io.CopyBuffer(v.Hash(), r, make([]byte, 777)) // odd buffer: reads straddle every boundary
			if err != nil || n != size {
				t.Fatalf("size %d: read %d, %v", size, n, err)
			}
			got, err := c.digest(size, uniq)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Digest() {
				t.Errorf("size %d uniq %d: digest %s, stream hashes to %s", size, uniq, got, v.Digest())
			}
			if prev, dup := seen[got]; dup && size >= 8 { // uniq lives in 8 bytes
				t.Errorf("size %d uniq %d: same content as %s", size, uniq, prev)
			}
			seen[got] = fmt.Sprintf("size %d uniq %d", size, uniq)
		}
	}
}

func TestPercentiles(t *testing.T) {
	tests := []struct {
		in            []int64 // ms
		p50, p99, max float64
	}{
		{nil, 0, 0, 0},
		{[]int64{5}, 5, 5, 5},
		{[]int64{3, 1, 2}, 2, 3, 3},
	}
	for _, tc := range tests {
		var d []time.Duration
		for _, v := range tc.in {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		p50, p99, mx := percentiles(d)
		if p50 != tc.p50 || p99 != tc.p99 || mx != tc.max {
			t.Errorf("%v: got %v %v %v", tc.in, p50, p99, mx)
		}
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond
	}
	if p50, p99, _ := percentiles(hundred); p50 != 50 || p99 != 99 {
		t.Errorf("1..100 ms: p50 %v p99 %v", p50, p99)
	}
}
