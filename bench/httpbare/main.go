// Command httpbare is the bare net/http server of scripts/bench-http.sh: it
// answers every GET with the same bytes and content type, those of one real
// citytwin answer, so that a load generator measures what the standard
// library alone costs on the machine, the ceiling of a lookup. With
// --headers (a file of "Name: value" lines, as curl -D writes them) it sends
// the answer's headers too, but for Date, Content-Length and the hop-by-hop
// ones, which net/http writes itself: the same bytes on the wire.
//
//	httpbare --addr 127.0.0.1:18099 --body answer.json --type application/geo+json --headers answer.headers
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "httpbare:", err)
		os.Exit(1)
	}
}

// run serves until the process is stopped.
func run(args []string) error {
	fs := flag.NewFlagSet("httpbare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:18099", "address to listen on")
	bodyFile := fs.String("body", "", "file whose bytes every answer carries")
	ctype := fs.String("type", "application/json", "Content-Type of the answers")
	headerFile := fs.String("headers", "", "file of the answer's headers (curl -D) to send too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bodyFile == "" {
		return errors.New("--body is required")
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	extra := http.Header{}
	if *headerFile != "" {
		if extra, err = readHeaders(*headerFile); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	size := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		for k, v := range extra {
			hdr[k] = v
		}
		hdr["Content-Type"] = []string{*ctype}
		hdr["Content-Length"] = []string{size}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// readHeaders reads the "Name: value" lines of a curl -D file, but for the
// status line and the headers net/http writes itself.
func readHeaders(path string) (http.Header, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r"), ":")
		if !ok || strings.HasPrefix(name, "HTTP/") {
			continue
		}
		switch k := http.CanonicalHeaderKey(strings.TrimSpace(name)); k {
		case "Date", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Type":
		default:
			h.Add(k, strings.TrimSpace(value))
		}
	}
	return h, nil
}
