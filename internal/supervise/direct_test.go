package supervise

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestDirect runs a shell as macOS's jail runs its agent: the exit status
// comes through, and a SIGTERM sent to the supervisor alone reaches it.
func TestDirect(t *testing.T) {
	status, err := Direct(exec.Command("/bin/sh", "-c", "exit 7"))
	if err != nil || status != 7 {
		t.Errorf("Direct(exit 7) = %d, %v; want 7", status, err)
	}
	cmd := exec.Command("/bin/sh", "-c", `trap 'kill $!; exit 9' TERM; echo ready; sleep 1000 & wait`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line == "ready\n" {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}
	}()
	status, err = Direct(cmd)
	if err != nil || status != 9 {
		t.Errorf("Direct after a SIGTERM to the supervisor = %d, %v; want the agent's trap's 9", status, err)
	}
}
