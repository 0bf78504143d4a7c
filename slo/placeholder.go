package slo

// Placeholders replaced by the real implementation.
type Schedule struct{}
type Calendar struct{}
