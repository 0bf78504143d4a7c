// Package bqtest starts a local stand-in of the BigQuery REST API for the
// tests of packages outside store/bigquery (cmd/kant's), which cannot
// import store/bigquery/internal/fakebq: it is that fake, with a dataset.
// Point a client at URL with option.WithEndpoint and
// option.WithoutAuthentication. It imports only the fake.
package bqtest

import "github.com/kantproject/kant/store/bigquery/internal/fakebq"

// Server is a running fake, closed when the test ends.
type Server struct {
	// URL is the endpoint to give the client.
	URL string
	f   *fakebq.Server
}

// New starts a fake serving project, holding an empty dataset in location.
func New(t fakebq.TB, project, dataset, location string) *Server {
	t.Helper()
	f := fakebq.New(t, project)
	f.AddDataset(dataset, location)
	return &Server{URL: f.URL, f: f}
}

// Count returns how many rows a table holds, duplicates included.
func (s *Server) Count(dataset, table string) (int, error) { return s.f.Count(dataset, table) }

// Calls returns how many times the API method op was called (jobs.query,
// tabledata.insertAll, …).
func (s *Server) Calls(op string) int { return s.f.Calls(op) }
