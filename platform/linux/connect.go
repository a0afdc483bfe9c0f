package linux

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// connect opens a private connection to addr, authenticated and registered
// within timeout. Cancelling the returned function closes it.
func connect(addr string, timeout time.Duration) (*dbus.Conn, context.CancelFunc, error) {
	// The connection lives as long as ctx.
	ctx, cancel := context.WithCancel(context.Background())
	var conn *dbus.Conn
	var err error
	if path := unixSocket(addr); path != "" {
		conn, err = connectUnix(ctx, path, time.Now().Add(timeout))
	} else {
		conn, err = connectOther(ctx, addr, timeout)
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		cancel()
		return nil, nil, fmt.Errorf("%w: the session bus at %s did not answer within %s; %s", ErrTimeout, addr, timeout, adviceBus)
	case err != nil:
		cancel()
		return nil, nil, fmt.Errorf("%w: cannot connect to the session bus at %s (%s); %s", ErrNoBus, addr, firstLine(err.Error()), adviceBus)
	}
	return conn, cancel, nil
}

// unixSocket returns the socket that addr names when it is a single unix:
// address, "@NAME" for an abstract one; else "".
func unixSocket(addr string) string {
	params, ok := strings.CutPrefix(addr, "unix:")
	if !ok || strings.Contains(addr, ";") {
		return ""
	}
	for _, param := range strings.Split(params, ",") {
		key, value, _ := strings.Cut(param, "=")
		value, err := dbus.UnescapeBusAddressValue(value)
		switch {
		case err != nil || value == "":
			return ""
		case key == "path":
			return value
		case key == "abstract":
			return "@" + value
		}
	}
	return ""
}

// connectOther connects to any other kind of address through godbus.
// Dialling ignores ctx, so it runs apart: a dial still hanging at the
// timeout is abandoned, and the connection it may yet make is closed at
// once.
func connectOther(ctx context.Context, addr string, timeout time.Duration) (*dbus.Conn, error) {
	type result struct {
		conn *dbus.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
		done <- result{conn, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.conn, r.err
	case <-timer.C:
		return nil, os.ErrDeadlineExceeded
	}
}

// connectUnix connects to the bus socket at path by deadline, the quick
// way: the SASL exchange (EXTERNAL as our uid, then BEGIN) and the bus's
// Hello go out in one write and the server's OK comes back in one read,
// where godbus's own exchange waits for five answers in turn.
func connectUnix(ctx context.Context, path string, deadline time.Time) (*dbus.Conn, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	conn, err := authenticate(ctx, c, deadline)
	if err != nil {
		c.Close()
		return nil, err
	}
	return conn, nil
}

// authenticate runs the pipelined SASL exchange on c and hands it to
// godbus.
func authenticate(ctx context.Context, c net.Conn, deadline time.Time) (*dbus.Conn, error) {
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	uid := strconv.Itoa(os.Getuid())
	var out bytes.Buffer
	out.WriteString("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(uid)) + "\r\nBEGIN\r\n")
	out.Write(helloMessage)
	if _, err := c.Write(out.Bytes()); err != nil {
		return nil, err
	}
	in := bufio.NewReader(c)
	line, err := in.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	guid, ok := strings.CutPrefix(strings.TrimRight(string(line), "\r\n"), "OK ")
	if !ok {
		return nil, fmt.Errorf("the bus refused to authenticate uid %s: %.80q", uid, line)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	bc := &busConn{Conn: c, in: in, script: strings.NewReader("REJECTED EXTERNAL\r\nOK " + guid + "\r\n")}
	conn, err := dbus.NewConn(bc, dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(uid)}); err != nil {
		return nil, err
	}
	return conn, nil
}

// helloMessage is the bus's Hello call, which must come first on a
// connection. It asks for no reply: the bus names the connection all the
// same, and nothing here needs the name.
var helloMessage = func() []byte {
	msg := &dbus.Message{
		Type:  dbus.TypeMethodCall,
		Flags: dbus.FlagNoReplyExpected,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
			dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.DBus"),
			dbus.FieldMember:      dbus.MakeVariant("Hello"),
			dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
		},
	}
	var b bytes.Buffer
	if err := msg.EncodeTo(&b, binary.LittleEndian); err != nil {
		panic(err)
	}
	// The serial, bytes 8 to 11, must not be 0; godbus numbers its own
	// calls from 1 up.
	binary.LittleEndian.PutUint32(b.Bytes()[8:12], math.MaxUint32)
	return b.Bytes()
}()

// busConn is what godbus speaks over once the SASL exchange is done:
// godbus's own exchange, which it insists on, is answered from script and
// what it writes meanwhile is dropped, up to its BEGIN. Reads are
// buffered: a message then takes one read, not three.
type busConn struct {
	net.Conn
	in     *bufio.Reader   // the socket, past the server's OK
	script *strings.Reader // nil once godbus sent BEGIN
	sent   []byte          // what godbus wrote before BEGIN
}

func (c *busConn) Read(p []byte) (int, error) {
	if c.script != nil {
		return c.script.Read(p)
	}
	return c.in.Read(p)
}

func (c *busConn) Write(p []byte) (int, error) {
	if c.script == nil {
		return c.Conn.Write(p)
	}
	c.sent = append(c.sent, p...)
	if bytes.HasSuffix(c.sent, []byte("\r\nBEGIN\r\n")) {
		c.script, c.sent = nil, nil
	}
	return len(p), nil
}
