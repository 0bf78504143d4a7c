package kant

import "time"

// FirstOpen returns the run that first made the runs of one occurrence (a
// job on a business date) answer "succeeded", and when: the earliest finish
// of a successful run that was then the latest started (Run.Later). A
// success overtaken by a run started before it finished never answered
// succeeded. A success without a finish time counts from when it was
// observed. opener is nil when the runs never answered succeeded.
//
// Runs later than opener are re-runs (or backfills) of an occurrence that
// was already done: the gate says so, and the SLOs downstream are told.
func FirstOpen(runs []Run) (opener *Run, at time.Time) {
	for i := range runs {
		r := &runs[i]
		if r.State != StateSucceeded {
			continue
		}
		fin := r.FinishedAt
		if fin.IsZero() {
			fin = r.ObservedAt
		}
		if opener != nil && !fin.Before(at) {
			continue
		}
		shadowed := false
		for k := range runs {
			if s := &runs[k]; s != r && s.Later(r) && !s.At().After(fin) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			opener, at = r, fin
		}
	}
	return opener, at
}
