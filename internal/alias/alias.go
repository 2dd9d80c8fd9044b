// Package alias tells whether the memory an Append function writes into overlaps the input it
// reads, as when a caller canonicalises a buffer into itself (Append(buf[:0], buf, ...)). The
// Append functions of canonicaljson and redaction read their input while they write, not always
// in the same order, so they copy an input that the spare capacity of dst overlaps.
package alias

import "unsafe"

// SpareOverlaps reports whether dst[len(dst):cap(dst)], where appending to dst writes, shares
// memory with src.
func SpareOverlaps(dst, src []byte) bool {
	spare := dst[len(dst):cap(dst)]
	if len(spare) == 0 || len(src) == 0 {
		return false
	}
	s0 := uintptr(unsafe.Pointer(unsafe.SliceData(spare)))
	d0 := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	return s0 < d0+uintptr(len(src)) && d0 < s0+uintptr(len(spare))
}
