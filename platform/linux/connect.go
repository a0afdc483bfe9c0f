package linux

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// connect opens a private connection to addr, authenticated and
// registered, and greets the Secret Service (see greeting), all within
// timeout. Cancelling the returned function closes it.
func connect(addr string, timeout time.Duration) (*dbus.Conn, context.CancelFunc, error) {
	// The connection lives as long as ctx.
	ctx, cancel := context.WithCancel(context.Background())
	deadline := time.Now().Add(timeout)
	var conn *dbus.Conn
	var answer, err error // the service's answer to the greeting; the bus's failure
	if path := unixSocket(addr); path != "" {
		conn, answer, err = connectUnix(ctx, path, deadline)
	} else if conn, err = connectOther(ctx, addr, timeout); err == nil {
		answer = greet(conn, deadline)
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		cancel()
		return nil, nil, fmt.Errorf("%w: the session bus at %s did not answer within %s; %s", ErrTimeout, addr, timeout, adviceBus)
	case err != nil:
		cancel()
		return nil, nil, fmt.Errorf("%w: cannot connect to the session bus at %s (%s); %s", ErrNoBus, addr, firstLine(err.Error()), adviceBus)
	case answer != nil:
		cancel()
		return nil, nil, classify("connect to the Secret Service", timeout, answer)
	}
	return conn, cancel, nil
}

// unanswered returns err, the greeting's failure, if it says that the
// Secret Service is missing, gone or silent, and nil if the service itself
// answered: then the greeting has done its work even if the service
// refused the read.
func unanswered(err error) error {
	switch name := dbusErrorName(err); {
	case name == "", name == dbusNoReply, name == dbusServiceUnknown, name == dbusNameHasNoOwner, strings.HasPrefix(name, dbusSpawnPrefix):
		return err
	}
	return nil
}

// The greeting is the first message to the Secret Service, a harmless
// read (the Collections property). gnome-keyring records a client when its
// first message arrives, but may handle that message before the record
// exists: an OpenSession that wins that race aborts the daemon
// (gnome-keyring issues 183, 190 and 194). So, as libsecret does, nothing
// else is sent before the greeting is answered. Its answer also says
// whether a provider is there; a provider that refuses the read is
// there all the same.
var greetingMessage = &dbus.Message{
	Type: dbus.TypeMethodCall,
	Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:        dbus.MakeVariant(servicePath),
		dbus.FieldInterface:   dbus.MakeVariant(propsIface),
		dbus.FieldMember:      dbus.MakeVariant("Get"),
		dbus.FieldDestination: dbus.MakeVariant(serviceName),
		dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf("", "")),
	},
	Body: []any{serviceIface, "Collections"},
}

// greet sends the greeting through godbus and waits for its answer; it
// returns what unanswered does.
func greet(conn *dbus.Conn, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	return unanswered(conn.Object(serviceName, servicePath).CallWithContext(ctx, propsIface+".Get", 0, greetingMessage.Body...).Err)
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
// way: the SASL exchange (EXTERNAL as our uid, then BEGIN), the bus's Hello
// and the greeting go out in one write, and the server's OK and the
// greeting's answer come back to one wait, where godbus's own exchange
// waits for five answers in turn before the greeting could go. It returns
// the greeting's answer apart from the bus's failures.
func connectUnix(ctx context.Context, path string, deadline time.Time) (conn *dbus.Conn, answer, err error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("unix", path)
	if err != nil {
		return nil, nil, err
	}
	conn, answer, err = authenticate(ctx, c, deadline)
	if err != nil || answer != nil {
		c.Close()
		return nil, answer, err
	}
	return conn, nil, nil
}

// authenticate runs the pipelined exchange on c and hands c to godbus.
func authenticate(ctx context.Context, c net.Conn, deadline time.Time) (conn *dbus.Conn, answer, err error) {
	if err := c.SetDeadline(deadline); err != nil {
		return nil, nil, err
	}
	uid := strconv.Itoa(os.Getuid())
	var out bytes.Buffer
	out.WriteString("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(uid)) + "\r\nBEGIN\r\n")
	out.Write(helloMessage)
	out.Write(greeting)
	if _, err := c.Write(out.Bytes()); err != nil {
		return nil, nil, err
	}
	in := bufio.NewReader(c)
	line, err := in.ReadSlice('\n')
	if err != nil {
		return nil, nil, err
	}
	guid, ok := strings.CutPrefix(strings.TrimRight(string(line), "\r\n"), "OK ")
	if !ok {
		return nil, nil, fmt.Errorf("the bus refused to authenticate uid %s: %.80q", uid, line)
	}
	if answer := readGreetingAnswer(in); answer != nil {
		return nil, answer, nil
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return nil, nil, err
	}
	bc := &busConn{Conn: c, in: in, script: strings.NewReader("REJECTED EXTERNAL\r\nOK " + guid + "\r\n")}
	if conn, err = dbus.NewConn(bc, dbus.WithContext(ctx)); err != nil {
		return nil, nil, err
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(uid)}); err != nil {
		return nil, nil, err
	}
	return conn, nil, nil
}

// readGreetingAnswer reads messages from in up to the answer to the
// greeting, and returns what unanswered does with it. What comes
// before it (the bus's NameAcquired signal) is dropped. The bus has let us
// in by then, so a deadline passing means the service did not answer.
func readGreetingAnswer(in io.Reader) error {
	for {
		msg, err := dbus.DecodeMessage(in)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return context.DeadlineExceeded
		}
		if err != nil {
			return err
		}
		if serial, _ := msg.Headers[dbus.FieldReplySerial].Value().(uint32); serial != greetingSerial {
			continue
		}
		if msg.Type != dbus.TypeError {
			return nil
		}
		name, _ := msg.Headers[dbus.FieldErrorName].Value().(string)
		return unanswered(dbus.Error{Name: name, Body: msg.Body})
	}
}

// helloMessage is the bus's Hello call, which must come first on a
// connection. It asks for no reply: the bus names the connection all the
// same, and nothing here needs the name.
var helloMessage = encode(&dbus.Message{
	Type:  dbus.TypeMethodCall,
	Flags: dbus.FlagNoReplyExpected,
	Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:        dbus.MakeVariant(dbus.ObjectPath("/org/freedesktop/DBus")),
		dbus.FieldInterface:   dbus.MakeVariant("org.freedesktop.DBus"),
		dbus.FieldMember:      dbus.MakeVariant("Hello"),
		dbus.FieldDestination: dbus.MakeVariant("org.freedesktop.DBus"),
	},
}, math.MaxUint32)

// greeting is greetingMessage on the wire.
var greeting = encode(greetingMessage, greetingSerial)

// greetingSerial numbers the greeting; godbus numbers its own calls from 1
// up.
const greetingSerial = math.MaxUint32 - 1

// encode returns msg on the wire, numbered serial (never 0).
func encode(msg *dbus.Message, serial uint32) []byte {
	var b bytes.Buffer
	if err := msg.EncodeTo(&b, binary.LittleEndian); err != nil {
		panic(err)
	}
	binary.LittleEndian.PutUint32(b.Bytes()[8:12], serial) // the serial field
	return b.Bytes()
}

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
