package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jailrun/jailrun/internal/placeholder"
	"github.com/jailrun/jailrun/internal/sessionca"
)

// transferSize is what BenchmarkTransfer moves per connection.
const transferSize = 100 << 20

// startSource serves on 127.0.0.1: each connection reads one byte, then
// gets size bytes (0: the byte echoed back) and is closed.
func startSource(b *testing.B, size int) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	chunk := make([]byte, 1<<20)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				one := make([]byte, 1)
				if _, err := io.ReadFull(c, one); err != nil {
					return
				}
				if size == 0 {
					c.Write(one)
					return
				}
				for sent := 0; sent < size; sent += len(chunk) {
					if _, err := c.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// exchange connects to addr (through the relay at via when via is not
// ""), sends one byte and reads until the end, returning the bytes read.
func exchange(b *testing.B, via, addr string, buf []byte) int64 {
	dial := addr
	if via != "" {
		dial = via
	}
	c, err := net.Dial("tcp", dial)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var r io.Reader = c
	if via != "" {
		if _, err := io.WriteString(c, "CONNECT "+addr+" HTTP/1.1\r\n\r\n"); err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("CONNECT: %v %v", resp, err)
		}
		r = br
	}
	if _, err := c.Write([]byte{1}); err != nil {
		b.Fatal(err)
	}
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransfer moves 100 MB from a server on loopback to a client,
// directly and through the relay and the proxy (issue 15 wants the ratio
// of their MB/s ≥ 0.7).
func BenchmarkTransfer(b *testing.B) {
	addr := startSource(b, transferSize)
	buf := make([]byte, 256<<10)
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(transferSize)
		for b.Loop() {
			if n := exchange(b, "", addr, buf); n != transferSize {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
	b.Run("proxied", func(b *testing.B) {
		p := startPath(b, allowing(b, addr), Options{})
		via := "127.0.0.1:" + strconv.Itoa(p.port)
		b.SetBytes(transferSize)
		for b.Loop() {
			if n := exchange(b, via, addr, buf); n != transferSize {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
}

// BenchmarkConnection is one short connection: connect, one byte each
// way, close; the proxied time less the direct one is what the path adds.
func BenchmarkConnection(b *testing.B) {
	addr := startSource(b, 0)
	buf := make([]byte, 16)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			exchange(b, "", addr, buf)
		}
	})
	b.Run("proxied", func(b *testing.B) {
		p := startPath(b, allowing(b, addr), Options{})
		via := "127.0.0.1:" + strconv.Itoa(p.port)
		for b.Loop() {
			exchange(b, via, addr, buf)
		}
	})
}

// benchToken is the fake token the HTTPS benchmarks' server wants; the
// terminated route's client sends the session's placeholder for it.
const benchToken = "github_pat_BENCHfake0123456789"

// benchChunk is what the benchmarks' server writes and their bodies read
// from, a slice at a time.
var benchChunk = make([]byte, 64<<10)

// startBenchTarget is an HTTPS server on 127.0.0.1, HTTP/2 and HTTP/1.1,
// standing in for github.com: GET /pack?size=N sends N bytes in chunks of
// unknown length (a clone's pack), POST /push reads its body to the end
// (a push's pack) and GET /api answers a small JSON object (one gh api
// call); each wants benchToken and answers 401 without it.
func startBenchTarget(b *testing.B) *httptest.Server {
	b.Helper()
	api := []byte(`{"login":"octocat","id":1,"type":"User","site_admin":false,"name":"The Octocat","company":"@github","blog":"https://github.blog","location":"San Francisco","public_repos":8,"followers":9999,"following":9}` + "\n")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+benchToken {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/pack":
			size, _ := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
			w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
			for sent := int64(0); sent < size; sent += int64(len(benchChunk)) {
				if _, err := w.Write(benchChunk[:min(int64(len(benchChunk)), size-sent)]); err != nil {
					return
				}
			}
		case "/push":
			n, err := io.Copy(io.Discard, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			io.WriteString(w, strconv.FormatInt(n, 10))
		default:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write(api)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv
}

// benchRoutes are the ways the benchmarks' client reaches the server.
var benchRoutes = []string{"direct", "tunnelled", "terminated"}

// benchClient returns a client that reaches srv by route — straight, through
// the relay and the proxy's CONNECT tunnel, or through the proxy
// terminating TLS with a session CA — speaking HTTP/2 or HTTP/1.1 to what
// it sees as the server, and the Authorization it sends.
func benchClient(b *testing.B, srv *httptest.Server, route string, http2 bool) (*http.Client, string) {
	b.Helper()
	host := hostPort(b, srv.URL)
	serverPool := x509.NewCertPool()
	serverPool.AddCert(srv.Certificate())
	tr := &http.Transport{
		TLSClientConfig:    &tls.Config{RootCAs: serverPool},
		ForceAttemptHTTP2:  http2,
		DisableCompression: true,
	}
	auth := "Bearer " + benchToken
	switch route {
	case "tunnelled":
		p := startPath(b, allowing(b, host), Options{})
		proxyURL, _ := url.Parse(p.proxyURL())
		tr.Proxy = http.ProxyURL(proxyURL)
	case "terminated":
		ca, err := sessionca.New([]string{host}, time.Now(), time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		vault := placeholder.New()
		auth = "Bearer " + vault.For("github:bench", host, benchToken)
		p := startPath(b, allowing(b, host), Options{Terminate: &Terminate{
			Hosts: []string{host}, CA: ca, Vault: vault, RootCAs: serverPool,
		}})
		proxyURL, _ := url.Parse(p.proxyURL())
		tr.Proxy = http.ProxyURL(proxyURL)
		caPool := x509.NewCertPool()
		caPool.AddCert(ca.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: caPool}
	}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, auth
}

// benchProtos are the protocols the benchmarks' client speaks; the
// terminating proxy speaks HTTP/2 upstream either way, as to github.com.
var benchProtos = []struct {
	name  string
	http2 bool
}{{"http1", false}, {"http2", true}}

// forEachRoute runs bench for each protocol and route as a sub-benchmark
// PROTO/ROUTE, with a client of its own.
func forEachRoute(b *testing.B, bench func(b *testing.B, srv *httptest.Server, client *http.Client, auth string)) {
	srv := startBenchTarget(b)
	for _, proto := range benchProtos {
		b.Run(proto.name, func(b *testing.B) {
			for _, route := range benchRoutes {
				b.Run(route, func(b *testing.B) {
					client, auth := benchClient(b, srv, route, proto.http2)
					bench(b, srv, client, auth)
				})
			}
		})
	}
}

// cpuTime is the CPU time the process has used, user and system: the
// client's, the server's, the relay's and the proxy's.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since since (cpu-ms/op):
// what a route takes more than direct is the relay's and the proxy's
// work, a figure less at the mercy of a busy machine than the time.
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-since)/float64(b.N)/1e6, "cpu-ms/op")
}

// download GETs size bytes from srv and reads them through buf.
func download(b *testing.B, srv *httptest.Server, client *http.Client, auth string, size int64, buf []byte) {
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/pack?size="+strconv.FormatInt(size, 10), nil)
	req.Header.Set("Authorization", auth)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET: %s", resp.Status)
	}
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if n != size {
		b.Fatalf("got %d bytes, want %d", n, size)
	}
}

// pushBody is a request body of n bytes of unknown length, so it is sent
// chunked (HTTP/1.1) or in DATA frames (HTTP/2) as it is read.
type pushBody struct{ n int64 }

func (p *pushBody) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	k := copy(b[:min(int64(len(b)), p.n)], benchChunk)
	p.n -= int64(k)
	return k, nil
}

// upload POSTs size bytes to srv, streamed.
func upload(b *testing.B, srv *httptest.Server, client *http.Client, auth string, size int64) {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/push", io.NopCloser(&pushBody{n: size}))
	req.ContentLength = -1
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != strconv.FormatInt(size, 10) {
		b.Fatalf("POST: %s %.40q", resp.Status, body)
	}
}

// BenchmarkHTTPSDownload GETs 100 MB over HTTPS, as a clone fetches its
// pack: straight from the server, through the proxy's tunnel (TLS end to
// end) and through the proxy terminating TLS and swapping the placeholder
// (the targets: terminated/direct ≥ 0.7, tunnelled/direct ≥ 0.8).
func BenchmarkHTTPSDownload(b *testing.B) {
	forEachRoute(b, func(b *testing.B, srv *httptest.Server, client *http.Client, auth string) {
		buf := make([]byte, 64<<10)
		b.SetBytes(transferSize)
		cpu := cpuTime(b)
		for b.Loop() {
			download(b, srv, client, auth, transferSize, buf)
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkHTTPSUpload POSTs 100 MB over HTTPS, streamed, as a push sends
// its pack, by the same routes as BenchmarkHTTPSDownload.
func BenchmarkHTTPSUpload(b *testing.B) {
	forEachRoute(b, func(b *testing.B, srv *httptest.Server, client *http.Client, auth string) {
		b.SetBytes(transferSize)
		cpu := cpuTime(b)
		for b.Loop() {
			upload(b, srv, client, auth, transferSize)
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkHTTPSRequest is one small GET on a kept-alive connection, as a
// gh api call makes; a route's time less direct's is what it adds to each
// request (the target: ≤ 5 ms).
func BenchmarkHTTPSRequest(b *testing.B) {
	forEachRoute(b, func(b *testing.B, srv *httptest.Server, client *http.Client, auth string) {
		var fresh atomic.Int64 // connections made, not reused
		trace := &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) {
			if !c.Reused {
				fresh.Add(1)
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, srv.URL+"/api/user", nil)
		req.Header.Set("Authorization", auth)
		get := func() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("GET: %s %v", resp.Status, err)
			}
		}
		get() // the connection, kept alive from here on
		fresh.Store(0)
		cpu := cpuTime(b)
		for b.Loop() {
			get()
		}
		reportCPU(b, cpu)
		if n := fresh.Load(); n > 0 {
			b.Fatalf("%d requests made a new connection", n)
		}
	})
}

// BenchmarkTerminatedMemory moves 100 MB and 1 GB each way through the
// terminating proxy while sampling the heap every 10 ms (the proxy's, the
// client's and the server's: one process) and reports its peak in use
// above what it was before (peak-heap-MB); the same few MB for both sizes
// show that no body is held whole.
func BenchmarkTerminatedMemory(b *testing.B) {
	srv := startBenchTarget(b)
	for _, proto := range benchProtos {
		for _, dir := range []string{"download", "upload"} {
			for _, size := range []int64{100 << 20, 1 << 30} {
				b.Run(fmt.Sprintf("%s/%s/%dMB", proto.name, dir, size>>20), func(b *testing.B) {
					memoryDuring(b, srv, proto.http2, dir, size)
				})
			}
		}
	}
}

// memoryDuring moves size bytes through the terminating proxy, dir
// "download" or "upload", and reports the heap's peak meanwhile.
func memoryDuring(b *testing.B, srv *httptest.Server, http2 bool, dir string, size int64) {
	client, auth := benchClient(b, srv, "terminated", http2)
	buf := make([]byte, 64<<10)
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		stop, sampled := make(chan struct{}), make(chan uint64)
		go func() {
			top := base
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapInuse)
				select {
				case <-stop:
					sampled <- top - base
					return
				case <-tick.C:
				}
			}
		}()
		if dir == "download" {
			download(b, srv, client, auth, size, buf)
		} else {
			upload(b, srv, client, auth, size)
		}
		close(stop)
		peak = max(peak, <-sampled)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
