package audit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/proxy"
)

func TestSessionID(t *testing.T) {
	if got := SessionID(4242, time.Date(2026, 12, 2, 9, 14, 23, 5, time.FixedZone("CET", 3600))); got != "20261202T081423Z-4242" {
		t.Errorf("SessionID = %s", got)
	}
}

func TestEgressLines(t *testing.T) {
	s := Session{ID: "20261202T081423Z-4242", Agent: "claude", PID: 4242}
	got := string(EgressLines(s, time.Date(2026, 12, 2, 8, 30, 0, 0, time.UTC),
		[]proxy.Traffic{{Dest: "api.github.com:443", Up: 1200, Down: 3400000, Conns: 5}, {Dest: "[::1]:8080", Up: 1, Down: 2, Conns: 1}},
		[]proxy.Refused{{Refusal: proxy.Refusal{Dest: proxy.Destination{Host: "paste.example", Port: 443}, Reason: "it is not in the egress list (JAILRUN_EGRESS=list)", Unlisted: true}, Count: 3},
			{Refusal: proxy.Refusal{Dest: proxy.Destination{Host: "typo.example", Port: 443}, Reason: "its name does not resolve", Check: "the name"}, Count: 1}}))
	want := `{"time":"2026-12-02T08:30:00Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"egress","host":"api.github.com","port":443,"up":1200,"down":3400000,"conns":5,"result":"connected"}
{"time":"2026-12-02T08:30:00Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"egress","host":"::1","port":8080,"up":1,"down":2,"conns":1,"result":"connected"}
{"time":"2026-12-02T08:30:00Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"egress","host":"paste.example","port":443,"count":3,"result":"refused","reason":"it is not in the egress list (JAILRUN_EGRESS=list)"}
{"time":"2026-12-02T08:30:00Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"egress","host":"typo.example","port":443,"count":1,"result":"unreachable","reason":"its name does not resolve"}
`
	if got != want {
		t.Errorf("EgressLines =\n%s\nwant\n%s", got, want)
	}
	if EgressLines(s, time.Now(), nil, nil) != nil {
		t.Error("no traffic gave lines")
	}
}

const testLog = `{"time":"2026-12-01T10:00:00Z","agent":"codex","pid":7,"op":"get","host":"github.com","path":"o/r.git","token":"github:classic","result":"served"}
{"time":"2026-12-02T08:14:25Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"get","host":"github.com","owner":"myorg","token":"github:fine-grained-myorg","result":"served"}
not json: a torn line
{"time":"2026-12-02T08:14:26Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"get","host":"github.com","owner":"myorg","token":"github:fine-grained-myorg","result":"served"}
{"time":"2026-12-02T08:20:00Z","session":"20261202T082000Z-99","agent":"gemini","pid":99,"op":"gh","host":"github.com","owner":"x","result":"refused","reason":"token expired"}
{"time":"2026-12-02T08:30:00Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"egress","host":"api.github.com","port":443,"up":1200,"down":3400000,"conns":5,"result":"connected"}
{"time":"2026-12-02T08:30:00Z","session":"20261202T081423Z-4242","agent":"claude","pid":4242,"op":"egress","host":"paste.example","port":443,"count":3,"result":"refused","reason":"it is not in the egress list (JAILRUN_EGRESS=list)"}
`

func TestReadLastAndText(t *testing.T) {
	sessions, unreadable, err := Read(strings.NewReader(testLog))
	if err != nil || unreadable != 1 {
		t.Fatalf("Read: %v, %d unreadable, want 1", err, unreadable)
	}
	var ids []string
	for _, s := range sessions {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, ","); got != "pid 7,20261202T081423Z-4242,20261202T082000Z-99" {
		t.Fatalf("sessions %s", got)
	}
	if n := len(sessions[1].Lines); n != 4 {
		t.Errorf("session 4242 has %d lines, want 4", n)
	}
	last := Last(sessions, 2)
	if len(last) != 2 || last[0].ID != "20261202T081423Z-4242" || len(Last(sessions, 0)) != 3 || len(Last(sessions, 9)) != 3 {
		t.Errorf("Last picked %+v", last)
	}
	var b bytes.Buffer
	if err := WriteText(&b, last); err != nil {
		t.Fatal(err)
	}
	want := `session 20261202T081423Z-4242  claude  started 2026-12-02 08:14:25 UTC
  get github.com/myorg → github:fine-grained-myorg: served ×2
  egress api.github.com:443: 1.2 kB up, 3.4 MB down, 5 connections
  egress paste.example:443: refused ×3 (it is not in the egress list (JAILRUN_EGRESS=list))

session 20261202T082000Z-99  gemini  started 2026-12-02 08:20:00 UTC
  gh github.com/x: refused ×1 (token expired)
`
	if b.String() != want {
		t.Errorf("WriteText =\n%s\nwant\n%s", b.String(), want)
	}
}
