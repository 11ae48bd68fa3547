// yamuxpeer: the real hashicorp/yamux (Debian's golang-github-hashicorp-yamux-dev) on one end
// of a connection, for tests/daemon/external/test_yamux_go.py.
//
// It takes the connection as an inherited file descriptor (-fd), runs a yamux session in the
// given role, echoes every stream the other side opens (until its FIN, then FIN back), pings
// -pings times, and opens -streams streams of its own, each sending -size bytes of a pattern,
// checking that the same bytes come back, and closing it.  It prints one JSON line
// with what it did, then waits for the other side to close the session, and exits 0; any
// failure is printed to stderr and exits 1.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"github.com/hashicorp/yamux"
)

func pattern(stream, size int) []byte {
	out := make([]byte, size)
	for i := range out {
		out[i] = byte(stream*31 + i*7 + i/251)
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "yamuxpeer: "+format+"\n", args...)
	os.Exit(1)
}

func echo(stream *yamux.Stream) {
	defer stream.Close()
	if _, err := io.Copy(stream, stream); err != nil {
		fmt.Fprintf(os.Stderr, "yamuxpeer: echo on stream %d: %v\n", stream.StreamID(), err)
	}
}

func roundTrip(session *yamux.Session, index, size int) error {
	stream, err := session.OpenStream()
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer stream.Close()
	sent := pattern(index, size)
	written := make(chan error, 1)
	go func() {
		_, err := stream.Write(sent)
		written <- err
	}()
	// The echo's bytes, then our FIN (the echo ends on it and sends its own), then EOF.
	// (Debian's yamux of 2019 reads EOF on a stream closed locally, so FIN waits for the
	// reading to be done; newer ones read on after a local close.)
	received := make([]byte, size)
	if _, err := io.ReadFull(stream, received); err != nil {
		return fmt.Errorf("read on stream %d: %w", stream.StreamID(), err)
	}
	if err := <-written; err != nil {
		return fmt.Errorf("write on stream %d: %w", stream.StreamID(), err)
	}
	if !bytes.Equal(received, sent) {
		return fmt.Errorf("stream %d: the bytes back differ from the %d sent", stream.StreamID(), size)
	}
	if err := stream.Close(); err != nil {
		return fmt.Errorf("close stream %d: %w", stream.StreamID(), err)
	}
	return nil
}

func main() {
	fd := flag.Int("fd", 3, "the connection's file descriptor")
	role := flag.String("role", "client", "client or server")
	streams := flag.Int("streams", 4, "streams to open")
	size := flag.Int("size", 1<<20, "bytes to send on each")
	pings := flag.Int("pings", 3, "pings to send")
	flag.Parse()

	conn, err := net.FileConn(os.NewFile(uintptr(*fd), "connection"))
	if err != nil {
		fail("connection: %v", err)
	}
	config := yamux.DefaultConfig()
	config.LogOutput = os.Stderr
	var session *yamux.Session
	if *role == "server" {
		session, err = yamux.Server(conn, config)
	} else {
		session, err = yamux.Client(conn, config)
	}
	if err != nil {
		fail("session: %v", err)
	}

	go func() {
		for {
			stream, err := session.AcceptStream()
			if err != nil {
				return
			}
			go echo(stream)
		}
	}()

	for i := 0; i < *pings; i++ {
		if _, err := session.Ping(); err != nil {
			fail("ping: %v", err)
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, *streams)
	for i := 0; i < *streams; i++ {
		wg.Add(1)
		go func(index int) {
			defer wg.Done()
			if err := roundTrip(session, index, *size); err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fail("%v", err)
	}

	report, _ := json.Marshal(map[string]int{"streams": *streams, "bytes": *streams * *size, "pings": *pings})
	fmt.Println(string(report))
	<-session.CloseChan()
}
