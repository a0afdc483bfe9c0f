package linux

import (
	"bytes"
	"crypto/aes"
	"errors"
	"math/big"
	"testing"
)

// pairTransfers returns two ends of an encrypted transfer whose keys were agreed by
// Diffie-Hellman, as a client and the service do.
func pairTransfers(t *testing.T) (client, service *transfer) {
	t.Helper()
	a, err := newDHKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	b, err := newDHKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.public) != dhKeySize || a.private.Cmp(b.private) == 0 {
		t.Fatalf("key pairs: public key of %d bytes, private keys equal: %v", len(a.public), a.private.Cmp(b.private) == 0)
	}
	ka, err := a.transferKey(b.public)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := b.transferKey(a.public)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ka, kb) || len(ka) != aes.BlockSize {
		t.Fatalf("agreed keys differ or are not %d bytes long", aes.BlockSize)
	}
	return &transfer{path: "/s/1", key: ka}, &transfer{path: "/s/1", key: kb}
}

func TestEncryptDecrypt(t *testing.T) {
	client, service := pairTransfers(t)
	for n := 0; n <= 2*aes.BlockSize+1; n++ {
		plain := bytes.Repeat([]byte("ghp_secret!"), 4)[:n]
		sec, err := client.encrypt(plain, "text/plain")
		if err != nil {
			t.Fatal(err)
		}
		if len(sec.Value) != (n/aes.BlockSize+1)*aes.BlockSize || len(sec.Parameters) != aes.BlockSize {
			t.Fatalf("%d bytes: ciphertext %d bytes, IV %d bytes", n, len(sec.Value), len(sec.Parameters))
		}
		if n >= 4 && bytes.Contains(sec.Value, plain[:4]) {
			t.Fatalf("%d bytes: the ciphertext contains the plaintext", n)
		}
		got, err := service.decrypt(sec)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: round trip changed the secret", n)
		}
	}
	a, _ := client.encrypt([]byte("same"), "text/plain")
	b, _ := client.encrypt([]byte("same"), "text/plain")
	if bytes.Equal(a.Parameters, b.Parameters) || bytes.Equal(a.Value, b.Value) {
		t.Fatal("two encryptions of one secret share their IV or ciphertext")
	}
}

func TestDecryptRejectsTampering(t *testing.T) {
	client, service := pairTransfers(t)
	sec, err := client.encrypt([]byte("ghp_0123456789"), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(s *secret){
		"other transfer": func(s *secret) { s.Session = "/s/2" },
		"short IV":       func(s *secret) { s.Parameters = s.Parameters[:8] },
		"partial block":  func(s *secret) { s.Value = s.Value[:len(s.Value)-1] },
		"empty":          func(s *secret) { s.Value = nil },
		// 14 bytes of plaintext end in the padding 0x02 0x02; flipping
		// IV bits flips the same plaintext bits.
		"padding too long": func(s *secret) { s.Parameters[15] ^= 0x55 },
		"padding mismatch": func(s *secret) { s.Parameters[14] ^= 0x55 },
		"zero padding":     func(s *secret) { s.Parameters[15] ^= 0x02 },
	}
	for name, tamper := range cases {
		s := sec
		s.Parameters = bytes.Clone(sec.Parameters)
		s.Value = bytes.Clone(sec.Value)
		tamper(&s)
		if _, err := service.decrypt(s); !errors.Is(err, errBadSecret) {
			t.Errorf("%s: decrypt error %v, want errBadSecret", name, err)
		}
	}
}

func TestSessionKeyRejectsWeakPeerKeys(t *testing.T) {
	kp, err := newDHKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	pMinus1 := new(big.Int).Sub(dhPrime, big.NewInt(1)).Bytes()
	for _, peer := range [][]byte{nil, {0}, {1}, pMinus1, dhPrime.Bytes()} {
		if _, err := kp.transferKey(peer); err == nil {
			t.Errorf("peer key %x accepted", peer)
		}
	}
}
