package linux

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"

	"github.com/godbus/dbus/v5"
)

// dhAlgorithm is the only transfer algorithm jailrun uses: secrets cross the
// bus encrypted, never in plain.
const dhAlgorithm = "dh-ietf1024-sha256-aes128-cbc-pkcs7"

// dhPrime is the 1024-bit MODP group of RFC 2409 (Oakley group 2); the
// generator is 2.
var dhPrime, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"+
		"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"+
		"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"+
		"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"+
		"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"+
		"FFFFFFFFFFFFFFFF", 16)

var dhGenerator = big.NewInt(2)

// dhKeySize is the byte length of a group element; the shared secret is
// padded to it before key derivation, as gnome-keyring and libsecret do.
const dhKeySize = 128

// secret is the Secret Service wire struct (oayays).
type secret struct {
	Session     dbus.ObjectPath
	Parameters  []byte // the AES-CBC IV
	Value       []byte // the ciphertext
	ContentType string
}

// transfer is the encrypted transfer the Secret Service opens for us (its
// OpenSession): the object path the service gave it and the AES
// key agreed with the service.
type transfer struct {
	path dbus.ObjectPath
	key  []byte
}

// dhKeyPair is one side of the Diffie-Hellman exchange.
type dhKeyPair struct {
	private *big.Int
	public  []byte
}

// dhPrivateBits is the size of the private exponent: 256 bits, over
// twice the strength of the 1024-bit group (about 80 bits; RFC 3526,
// section 8, sizes exponents at twice the strength). Both exponentiations
// cost a quarter of what a full-size exponent costs.
const dhPrivateBits = 256

// newDHKeyPair draws a random private exponent and computes the public key.
func newDHKeyPair() (dhKeyPair, error) {
	// 1 < private < 2^256 + 2 < p-1.
	x, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), dhPrivateBits))
	if err != nil {
		return dhKeyPair{}, fmt.Errorf("generate the transfer key: %w", err)
	}
	x.Add(x, big.NewInt(2))
	pub := new(big.Int).Exp(dhGenerator, x, dhPrime)
	return dhKeyPair{private: x, public: pub.FillBytes(make([]byte, dhKeySize))}, nil
}

// transferKey derives the AES-128 key from the peer's public key:
// HKDF-SHA256 (no salt, no info) of the padded shared secret.
func (kp dhKeyPair) transferKey(peerPublic []byte) ([]byte, error) {
	y := new(big.Int).SetBytes(peerPublic)
	one := big.NewInt(1)
	if y.Cmp(one) <= 0 || y.Cmp(new(big.Int).Sub(dhPrime, one)) >= 0 {
		return nil, errors.New("the Secret Service sent an invalid public key for the encrypted transfer")
	}
	shared := new(big.Int).Exp(y, kp.private, dhPrime).FillBytes(make([]byte, dhKeySize))
	return hkdf.Key(sha256.New, shared, nil, "", aes.BlockSize)
}

// encrypt wraps plaintext for the service: AES-128-CBC with PKCS#7 padding
// and a fresh random IV.
func (s *transfer) encrypt(plaintext []byte, contentType string) (secret, error) {
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return secret{}, err
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return secret{}, fmt.Errorf("generate IV: %w", err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	copy(buf[len(plaintext):], bytes.Repeat([]byte{byte(pad)}, pad))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return secret{Session: s.path, Parameters: iv, Value: buf, ContentType: contentType}, nil
}

// errBadSecret hides why decryption failed: the details could hint at the
// plaintext.
var errBadSecret = errors.New("the Secret Service returned a secret that does not decrypt; close other keyring clients and retry")

// decrypt unwraps a secret the service sent, checking its padding.
func (s *transfer) decrypt(sec secret) ([]byte, error) {
	if sec.Session != s.path || len(sec.Parameters) != aes.BlockSize ||
		len(sec.Value) == 0 || len(sec.Value)%aes.BlockSize != 0 {
		return nil, errBadSecret
	}
	block, err := aes.NewCipher(s.key)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, len(sec.Value))
	cipher.NewCBCDecrypter(block, sec.Parameters).CryptBlocks(buf, sec.Value)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errBadSecret
	}
	for _, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, errBadSecret
		}
	}
	return buf[:len(buf)-pad], nil
}
