package kant

import "time"

// Roles a kant serve replica can have.
const (
	RoleLeader    = "leader"    // holds the leader lease: polls, evaluates, alerts, exports
	RoleCandidate = "candidate" // may lead, does not now
	RoleFollower  = "follower"  // never leads (kant serve -role follower)
)

// ReplicaStatus is what a replica knows of the leadership of the replicas
// sharing its store (GET /v1/status, the status page).
type ReplicaStatus struct {
	Replica      string    `json:"replica"`
	Role         string    `json:"role"`
	Leader       string    `json:"leader"` // "" when no replica holds the lease
	LeaderSince  time.Time `json:"leader_since,omitzero"`
	Generation   int64     `json:"generation"`
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	CheckedAt    time.Time `json:"checked_at,omitzero"` // when this replica last read the lease
	LeaseTTL     float64   `json:"lease_ttl_s"`
	LastLeaseErr string    `json:"last_lease_error,omitempty"`
	TermsStarted int       `json:"terms_led"` // how many times this replica became the leader
}
