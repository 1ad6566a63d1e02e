package s3dest

import "testing"

// A server's checksum in another spelling of the same bytes is no
// corruption: Put deletes an object only for a checksum proven other.
func TestSumsDiffer(t *testing.T) {
	for _, tc := range []struct {
		got, want string
		differ    bool
	}{
		{"qTxfkw==", "qTxfkw==", false},
		{"qTxfkw", "qTxfkw==", false},
		{"qTxfkw==-3", "qTxfkw==-3", false},
		{"qTxfkw==-3", "qTxfkw==-4", true},
		{"AAAAAA==", "qTxfkw==", true},
		{"not base64!", "qTxfkw==", false},
		{"", "qTxfkw==", false},
	} {
		if got := sumsDiffer(tc.got, tc.want); got != tc.differ {
			t.Errorf("sumsDiffer(%q, %q) = %v, want %v", tc.got, tc.want, got, tc.differ)
		}
	}
}
