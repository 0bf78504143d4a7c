// Package helm holds the tests of kant's Helm chart (./kant): they render it
// with Helm's Go SDK for the default values and the examples, decode every
// manifest strictly into the Kubernetes API types and compare the output
// with golden files. It is in the deploy module so that kant's own module
// carries no Kubernetes or Helm dependency; nothing imports it.
package helm
