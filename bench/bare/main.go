// Command bare serves one file's bytes from memory as application/json on
// every path: Go's ceiling for the gate in bench/gate.sh. It writes the
// response the way the gate does (Content-Type, Cache-Control and
// Content-Length headers, status, one Write) through an http.Server with
// kant's API timeouts, so what kant adds on top is its mux, its middleware
// and its handler.
// It imports only the standard library.
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
	addr := flag.String("listen", "127.0.0.1:8082", "address to listen on")
	body := flag.String("body", "", "file whose bytes every response carries")
	flag.Parse()
	if err := run(*addr, *body); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run(addr, path string) error {
	if path == "" {
		return errors.New("-body is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.WriteHeader(http.StatusOK)
			w.Write(b)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	return srv.Serve(ln)
}
