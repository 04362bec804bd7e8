// Command httpbare is the bare net/http server of scripts/bench-http.sh: it
// answers every GET with the same bytes and content type, those of one real
// citytwin answer, so that a load generator measures what the standard
// library alone costs on the machine, the ceiling of a lookup.
//
//	httpbare --addr 127.0.0.1:18099 --body answer.json --type application/geo+json
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
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
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	size := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr["Content-Type"] = []string{*ctype}
		hdr["Content-Length"] = []string{size}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
