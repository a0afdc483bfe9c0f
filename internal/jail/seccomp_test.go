package jail

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/net/bpf"
)

// seccompData lays out struct seccomp_data for x/net/bpf's VM, which loads
// words big-endian (network order) where the kernel loads them in native
// order: each word the filter reads is stored so the VM reads its value.
func seccompData(arch, nr uint32, arg1 uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[offsetNr:], nr)
	binary.BigEndian.PutUint32(b[offsetArch:], arch)
	binary.BigEndian.PutUint32(b[offsetArgs1:], uint32(arg1)) // the low half, first on little-endian
	binary.BigEndian.PutUint32(b[offsetArgs1+4:], uint32(arg1>>32))
	return b
}

func TestSeccompFilter(t *testing.T) {
	const (
		eperm  = retErrno | errnoEPERM
		enosys = retErrno | errnoENOSYS
	)
	for _, tc := range []struct {
		name string
		abis []abi
		arch uint32
		nr   uint32
		arg1 uint64
		want uint32
	}{
		{"x86_64 write", []abi{abiX8664, abiI386}, abiX8664.audit, 1, 0, retAllow},
		{"x86_64 ioctl TCGETS", []abi{abiX8664, abiI386}, abiX8664.audit, 16, 0x5401, retAllow},
		{"x86_64 ioctl TIOCSTI", []abi{abiX8664, abiI386}, abiX8664.audit, 16, ioctlTIOCSTI, eperm},
		{"x86_64 ioctl TIOCSTI, high bits set", []abi{abiX8664, abiI386}, abiX8664.audit, 16, 0xffffffff_00005412, eperm},
		{"x86_64 ioctl TIOCLINUX", []abi{abiX8664, abiI386}, abiX8664.audit, 16, ioctlTIOCLINUX, eperm},
		{"x86_64 TIOCSTI's number as another call's argument", []abi{abiX8664, abiI386}, abiX8664.audit, 0, ioctlTIOCSTI, retAllow},
		{"x86_64 add_key", []abi{abiX8664, abiI386}, abiX8664.audit, 248, 0, eperm},
		{"x86_64 request_key", []abi{abiX8664, abiI386}, abiX8664.audit, 249, 0, eperm},
		{"x86_64 keyctl", []abi{abiX8664, abiI386}, abiX8664.audit, 250, 0, eperm},
		{"x32 read", []abi{abiX8664, abiI386}, abiX8664.audit, x32Bit | 0, 0, enosys},
		{"x32 ioctl TIOCSTI", []abi{abiX8664, abiI386}, abiX8664.audit, x32Bit | 514, ioctlTIOCSTI, enosys},
		{"i386 ioctl TIOCSTI", []abi{abiX8664, abiI386}, abiI386.audit, 54, ioctlTIOCSTI, eperm},
		{"i386 keyctl", []abi{abiX8664, abiI386}, abiI386.audit, 288, 0, eperm},
		{"i386 call 250 (not keyctl there)", []abi{abiX8664, abiI386}, abiI386.audit, 250, 0, retAllow},
		{"i386 call 16 (not ioctl there)", []abi{abiX8664, abiI386}, abiI386.audit, 16, ioctlTIOCSTI, retAllow},
		{"aarch64 on an amd64 host", []abi{abiX8664, abiI386}, abiAArch64.audit, 29, 0, retKillProcess},
		{"aarch64 ioctl TIOCSTI", []abi{abiAArch64, abiARM}, abiAArch64.audit, 29, ioctlTIOCSTI, eperm},
		{"aarch64 keyctl", []abi{abiAArch64, abiARM}, abiAArch64.audit, 219, 0, eperm},
		{"aarch64 a number with the x32 bit", []abi{abiAArch64, abiARM}, abiAArch64.audit, x32Bit, 0, retAllow},
		{"arm keyctl", []abi{abiAArch64, abiARM}, abiARM.audit, 311, 0, eperm},
		{"x86_64 on an arm64 host", []abi{abiAArch64, abiARM}, abiX8664.audit, 1, 0, retKillProcess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := bpf.NewVM(seccompFilter(tc.abis))
			if err != nil {
				t.Fatal(err)
			}
			got, err := vm.Run(seccompData(tc.arch, tc.nr, tc.arg1))
			if err != nil {
				t.Fatal(err)
			}
			if uint32(got) != tc.want {
				t.Errorf("filter returns %#x, want %#x", uint32(got), tc.want)
			}
		})
	}
}

func TestSeccompProgramIsSockFilterArray(t *testing.T) {
	if _, err := hostABIs(runtime.GOARCH); err != nil {
		t.Skip(err)
	}
	prog, err := SeccompProgram()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bpf.Assemble(seccompFilter(must(hostABIs(runtime.GOARCH))))
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 8*len(raw) {
		t.Fatalf("program is %d bytes, want 8 per instruction (%d)", len(prog), 8*len(raw))
	}
	last := raw[len(raw)-1]
	if got := binary.NativeEndian.Uint32(prog[len(prog)-4:]); got != last.K || binary.NativeEndian.Uint16(prog[len(prog)-8:]) != last.Op {
		t.Errorf("last instruction encodes as %x, want op %#x k %#x", prog[len(prog)-8:], last.Op, last.K)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSeccompFilterKill(t *testing.T) {
	const eperm = retErrno | errnoEPERM
	for _, tc := range []struct {
		name string
		abis []abi
		arch uint32
		nr   uint32
		pid  uint64
		want uint32
	}{
		{"x86_64 kill(0) signals the group outside", []abi{abiX8664, abiI386}, abiX8664.audit, 62, 0, eperm},
		{"x86_64 kill(0), high bits set", []abi{abiX8664, abiI386}, abiX8664.audit, 62, 0xffffffff_00000000, eperm},
		{"x86_64 kill of a process", []abi{abiX8664, abiI386}, abiX8664.audit, 62, 12, retAllow},
		{"x86_64 kill(-pgid) of a group inside", []abi{abiX8664, abiI386}, abiX8664.audit, 62, 0xfffffff4, retAllow},
		{"x86_64 kill(-1)", []abi{abiX8664, abiI386}, abiX8664.audit, 62, 0xffffffff, retAllow},
		{"x86_64 read(0)", []abi{abiX8664, abiI386}, abiX8664.audit, 0, 0, retAllow},
		{"i386 kill(0)", []abi{abiX8664, abiI386}, abiI386.audit, 37, 0, eperm},
		{"aarch64 kill(0)", []abi{abiAArch64, abiARM}, abiAArch64.audit, 129, 0, eperm},
		{"arm kill(0)", []abi{abiAArch64, abiARM}, abiARM.audit, 37, 0, eperm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := bpf.NewVM(seccompFilter(tc.abis))
			if err != nil {
				t.Fatal(err)
			}
			data := seccompData(tc.arch, tc.nr, 0)
			binary.BigEndian.PutUint32(data[offsetArgs0:], uint32(tc.pid)) // as seccompData lays out a word
			binary.BigEndian.PutUint32(data[offsetArgs0+4:], uint32(tc.pid>>32))
			got, err := vm.Run(data)
			if err != nil {
				t.Fatal(err)
			}
			if uint32(got) != tc.want {
				t.Errorf("filter returns %#x, want %#x", uint32(got), tc.want)
			}
		})
	}
}
