package alias

import "testing"

func TestSpareOverlaps(t *testing.T) {
	buf := make([]byte, 10, 16)
	other := make([]byte, 10)
	tests := []struct {
		name     string
		dst, src []byte
		want     bool
	}{
		{"into itself", buf[:0], buf, true},
		{"src after the written part", buf[:4], buf[6:], true},
		{"src inside the written part", buf[:8], buf[2:6], false},
		{"src ends where dst's spare begins", buf[:4], buf[:4], false},
		{"src starts in the spare beyond len(buf)", buf[:10], buf[9:12], true},
		{"other memory", buf[:0], other, false},
		{"no spare capacity", buf[:16], buf, false},
		{"empty src", buf[:0], buf[3:3], false},
		{"nil dst", nil, buf, false},
	}
	for _, tt := range tests {
		if got := SpareOverlaps(tt.dst, tt.src); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
