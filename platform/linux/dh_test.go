package linux

import (
	"math/big"
	"testing"
)

// TestDHPrivateExponentSize checks the short private exponent: above 1,
// at most dhPrivateBits+1 bits, and the public key computed from it.
func TestDHPrivateExponentSize(t *testing.T) {
	for range 100 {
		kp, err := newDHKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		if kp.private.Cmp(big.NewInt(1)) <= 0 || kp.private.BitLen() > dhPrivateBits+1 {
			t.Fatalf("private exponent of %d bits, want 2 ≤ x ≤ 2^%d+1", kp.private.BitLen(), dhPrivateBits)
		}
		want := new(big.Int).Exp(dhGenerator, kp.private, dhPrime).FillBytes(make([]byte, dhKeySize))
		if string(kp.public) != string(want) {
			t.Fatal("public key is not g^x mod p")
		}
	}
}

// BenchmarkDHKeyPair is our side of opening a session: a key pair, then
// the shared key from the service's public key.
func BenchmarkDHKeyPair(b *testing.B) {
	peer, err := newDHKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		kp, err := newDHKeyPair()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := kp.transferKey(peer.public); err != nil {
			b.Fatal(err)
		}
	}
}
