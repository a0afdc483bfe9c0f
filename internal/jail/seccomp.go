package jail

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/net/bpf"
)

// The seccomp filter is classic BPF, assembled with golang.org/x/net/bpf:
// the Go team's package, pure Go (libseccomp's binding needs cgo and the C
// library), and its VM runs the same program in the tests. What it does:
//   - a syscall of an architecture other than the host's own and its
//     32-bit compat one kills the process (no such call can happen on this
//     kernel short of an attack); x32 syscall numbers get ENOSYS;
//   - ioctl(TIOCSTI) and ioctl(TIOCLINUX), which push input into the
//     terminal (and so into the shell outside), get EPERM, as in Flatpak;
//   - keyctl, add_key and request_key, the kernel keyrings shared with the
//     caller's session, get EPERM;
//   - kill(0, sig) gets EPERM: it signals the caller's whole process group,
//     which, the jail keeping the terminal's job control, holds jailrun's
//     supervisor and bwrap outside the pid namespace; a SIGKILL there would
//     end the supervisor before it writes the session's audit (a group
//     inside the jail is still reached by kill(-pgid));
//   - everything else is allowed.

// Return values of a seccomp filter (linux/seccomp.h).
const (
	retKillProcess = 0x80000000
	retErrno       = 0x00050000
	retAllow       = 0x7fff0000
	errnoEPERM     = 1
	errnoENOSYS    = 38
)

// Terminal ioctls that inject input or talk to the console (asm-generic/ioctls.h).
const (
	ioctlTIOCSTI   = 0x5412
	ioctlTIOCLINUX = 0x541C
)

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
// Every architecture listed in abis is little-endian, so an argument's low
// 32 bits are its first 4 bytes.
const (
	offsetNr    = 0
	offsetArch  = 4
	offsetArgs0 = 16
	offsetArgs1 = 16 + 8
)

// x32Bit marks the x32 ABI's syscall numbers under AUDIT_ARCH_X86_64.
const x32Bit = 0x40000000

// abi is one syscall table: its audit architecture and the numbers the
// filter looks at.
type abi struct {
	name                                    string
	audit                                   uint32
	ioctl, addKey, requestKey, keyctl, kill uint32
	rejectX32                               bool
}

var (
	abiX8664   = abi{"x86_64", 0xc000003e, 16, 248, 249, 250, 62, true}
	abiI386    = abi{"i386", 0x40000003, 54, 286, 287, 288, 37, false}
	abiAArch64 = abi{"aarch64", 0xc00000b7, 29, 217, 218, 219, 129, false}
	abiARM     = abi{"arm", 0x40000028, 54, 309, 310, 311, 37, false}
)

// hostABIs are the syscall tables a process on this host can use.
func hostABIs(goarch string) ([]abi, error) {
	switch goarch {
	case "amd64":
		return []abi{abiX8664, abiI386}, nil
	case "arm64":
		return []abi{abiAArch64, abiARM}, nil
	}
	return nil, fmt.Errorf("jail: no seccomp filter for %s yet; run with --no-jail", goarch)
}

// SeccompProgram returns the filter for this host as bwrap's --seccomp
// reads it: an array of struct sock_filter in native byte order.
func SeccompProgram() ([]byte, error) {
	abis, err := hostABIs(runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(seccompFilter(abis))
	if err != nil {
		return nil, fmt.Errorf("jail: assemble the seccomp filter: %w", err)
	}
	out := make([]byte, 0, 8*len(raw))
	for _, ins := range raw {
		out = binary.NativeEndian.AppendUint16(out, ins.Op)
		out = append(out, ins.Jt, ins.Jf)
		out = binary.NativeEndian.AppendUint32(out, ins.K)
	}
	return out, nil
}

// seccompFilter returns the program for abis; see the comment at the top.
func seccompFilter(abis []abi) []bpf.Instruction {
	var a assembler
	a.emit(bpf.LoadAbsolute{Off: offsetArch, Size: 4})
	for _, x := range abis {
		a.jumpIfEqual(x.audit, x.name)
	}
	a.emit(bpf.RetConstant{Val: retKillProcess})
	for _, x := range abis {
		a.label(x.name)
		a.emit(bpf.LoadAbsolute{Off: offsetNr, Size: 4})
		if x.rejectX32 {
			a.jumpIfAtLeast(x32Bit, "enosys")
		}
		a.jumpIfEqual(x.ioctl, "ioctl")
		a.jumpIfEqual(x.kill, "kill")
		for _, nr := range []uint32{x.addKey, x.requestKey, x.keyctl} {
			a.jumpIfEqual(nr, "eperm")
		}
		a.emit(bpf.RetConstant{Val: retAllow})
	}
	a.label("ioctl")
	a.emit(bpf.LoadAbsolute{Off: offsetArgs1, Size: 4})
	a.jumpIfEqual(ioctlTIOCSTI, "eperm")
	a.jumpIfEqual(ioctlTIOCLINUX, "eperm")
	a.emit(bpf.RetConstant{Val: retAllow})
	a.label("kill")
	a.emit(bpf.LoadAbsolute{Off: offsetArgs0, Size: 4}) // pid_t: the low half
	a.jumpIfEqual(0, "eperm")
	a.emit(bpf.RetConstant{Val: retAllow})
	a.label("eperm")
	a.emit(bpf.RetConstant{Val: retErrno | errnoEPERM})
	a.label("enosys")
	a.emit(bpf.RetConstant{Val: retErrno | errnoENOSYS})
	return a.resolve()
}

// assembler places labels and turns forward jumps to them into the
// relative skips classic BPF wants.
type assembler struct {
	program []bpf.Instruction
	labels  map[string]int
	jumps   map[int]string // index of a conditional jump → its label if true
}

func (a *assembler) emit(ins bpf.Instruction) { a.program = append(a.program, ins) }

func (a *assembler) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.program)
}

func (a *assembler) jump(ins bpf.JumpIf, target string) {
	if a.jumps == nil {
		a.jumps = map[int]string{}
	}
	a.jumps[len(a.program)] = target
	a.emit(ins)
}

func (a *assembler) jumpIfEqual(val uint32, target string) {
	a.jump(bpf.JumpIf{Cond: bpf.JumpEqual, Val: val}, target)
}

func (a *assembler) jumpIfAtLeast(val uint32, target string) {
	a.jump(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: val}, target)
}

func (a *assembler) resolve() []bpf.Instruction {
	for i, target := range a.jumps {
		to, ok := a.labels[target]
		if !ok || to <= i || to-i-1 > 255 {
			panic("jail: seccomp filter jumps to " + target + ", which is not a label within reach ahead")
		}
		ins := a.program[i].(bpf.JumpIf)
		ins.SkipTrue = uint8(to - i - 1)
		a.program[i] = ins
	}
	return a.program
}
