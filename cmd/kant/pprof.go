package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
)

// servePprof serves Go's profiles (/debug/pprof/) on addr, apart from the
// API so that they are never exposed with it: KANT_PPROF_ADDR=127.0.0.1:6060
// kant serve, then go tool pprof http://127.0.0.1:6060/debug/pprof/heap.
// It returns at once; a listen error is logged and serving goes on.
func servePprof(addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("profiles not served", "component", "main", "addr", addr, "err", err)
		return
	}
	logger.Info("profiles served", "component", "main", "addr", ln.Addr().String())
	go http.Serve(ln, mux)
}
