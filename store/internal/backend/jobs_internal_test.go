package backend

import "testing"

func TestPrefixEnd(t *testing.T) {
	if end, ok := prefixEnd("a/\xff\xff"); !ok || end != "a0" {
		t.Errorf("prefixEnd = %q, %v", end, ok)
	}
	if _, ok := prefixEnd("\xff"); ok {
		t.Error("prefixEnd of 0xff has an end")
	}
}
