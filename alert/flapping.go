package alert

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/kantproject/kant"
	"github.com/kantproject/kant/slo"
)

// KindFlapping is one notice for a job whose outcome keeps changing, in
// place of an incident per failure.
const KindFlapping = "flapping"

// Flapping is when a job counts as flapping: more than Flips changes
// between success and final failure among its runs started within Window.
type Flapping struct {
	Flips  int           // default DefaultFlips; negative: never flapping
	Window time.Duration // default 24h
}

// DefaultFlips is how many flips a job may make within the window before
// it is flapping.
const DefaultFlips = 4

func (f Flapping) withDefaults() Flapping {
	if f.Flips == 0 {
		f.Flips = DefaultFlips
	}
	if f.Window <= 0 {
		f.Window = 24 * time.Hour
	}
	return f
}

// flap is a job's flapping, for folding its bad occurrences: from since
// until until (now when still flapping).
type flap struct {
	since, until time.Time
}

// flips counts the changes between success and final failure among runs
// (of one job) started in (now-window, now], and returns the first counted
// run's start and the last run.
func flips(runs []*kant.Run, now time.Time, window time.Duration) (n int, since time.Time, last *kant.Run) {
	var outcomes []*kant.Run
	for _, r := range runs {
		final := r.State == kant.StateSucceeded || (r.State.Failed() && r.State != kant.StateSkipped && !r.RetryPending())
		if final && r.At().After(now.Add(-window)) && !r.At().After(now) {
			outcomes = append(outcomes, r)
		}
	}
	slices.SortFunc(outcomes, func(a, b *kant.Run) int {
		switch {
		case a.Later(b):
			return 1
		case b.Later(a):
			return -1
		}
		return 0
	})
	for i := 1; i < len(outcomes); i++ {
		if (outcomes[i].State == kant.StateSucceeded) != (outcomes[i-1].State == kant.StateSucceeded) {
			n++
		}
	}
	if len(outcomes) == 0 {
		return 0, time.Time{}, nil
	}
	return n, outcomes[0].At(), outcomes[len(outcomes)-1]
}

// flapping opens, updates and resolves one flapping notice per job, and
// records each job's flapping (now, or in a notice stored) for occurrences
// to fold its bad occurrences into.
func (d *decider) flapping() {
	d.flaps = map[kant.JobKey][]flap{}
	f := d.p.Flapping.withDefaults()
	if f.Flips < 0 { // never flapping: notices still open are resolved
		f.Flips = math.MaxInt
	}
	// Only the runs within the window count, and a job needs more than
	// Flips of them to flip more than Flips times (or an open notice, to
	// be resolved): most jobs are left at the first pass.
	inWindow := func(r *kant.Run) bool { return r.At().After(d.now.Add(-f.Window)) && !r.At().After(d.now) }
	count := map[kant.JobKey]int{}
	for i := range d.in.Runs {
		if inWindow(&d.in.Runs[i]) {
			count[d.in.Runs[i].Job]++
		}
	}
	openFlap := map[kant.JobKey]bool{}
	for _, a := range d.in.Alerts {
		if a.Kind == KindFlapping && a.Status == kant.AlertOpen {
			openFlap[a.Job] = true
		}
	}
	byJob := map[kant.JobKey][]*kant.Run{}
	var jobs []kant.JobKey
	for i := range d.in.Runs {
		r := &d.in.Runs[i]
		if count[r.Job] <= f.Flips && !openFlap[r.Job] {
			continue
		}
		if _, ok := byJob[r.Job]; !ok {
			jobs = append(jobs, r.Job)
		}
		byJob[r.Job] = append(byJob[r.Job], r)
	}
	slices.Sort(jobs)
	// Notices stored, resolved ones included: what they covered stays
	// folded.
	for _, a := range d.in.Alerts {
		if a.Kind == KindFlapping && a.Status == kant.AlertResolved {
			d.flaps[a.Job] = append(d.flaps[a.Job], flap{a.Since, a.UpdatedAt})
		}
	}
	for _, job := range jobs {
		var def *slo.Definition
		for i := range d.p.SLOs {
			if d.p.SLOs[i].Selects(job) {
				def = &d.p.SLOs[i]
				break
			}
		}
		if def == nil {
			continue
		}
		n, since, last := flips(byJob[job], d.now, f.Window)
		prefix := "flapping/" + string(job) + "/"
		open, exists := d.openOf(KindFlapping, prefix)
		loc := locOf(def)
		latest := ""
		if last != nil {
			latest = fmt.Sprintf("%s at %s", last.State, d.fmtTime(last.At(), loc))
		}
		window := fmtDuration(f.Window)
		switch {
		case n > f.Flips:
			w := want{kind: KindFlapping, status: kant.AlertOpen, slo: def.Name, job: job, owner: def.Owner, def: def,
				id: prefix + kant.DateOf(d.now.In(loc)).String(), since: since}
			if exists {
				w.id, w.since = open.ID, open.Since
			}
			w.date = kant.DateOf(w.since.In(loc))
			w.text = fmt.Sprintf("%s is flapping: %d changes between success and failure in the last %s (latest: %s); its failures are counted here, not posted one by one",
				job, n, window, latest)
			w.fields = []kant.AlertField{{Label: "SLO", Value: def.Name}, {Label: "Flips", Value: fmt.Sprintf("%d in %s (more than %d)", n, window, f.Flips)},
				{Label: "Latest run", Value: latest}, {Label: "Since", Value: d.fmtTime(w.since, loc)}}
			if def.Owner != "" {
				w.fields = append(w.fields, kant.AlertField{Label: "Owner", Value: def.Owner})
			}
			w.links = d.jobLink(job)
			// A new count updates the message; it is not worth a reply.
			d.apply(Open, w)
			d.flaps[job] = append(d.flaps[job], flap{w.since, d.now})
		case exists:
			w := wantFrom(open)
			w.def, w.status = def, kant.AlertResolved
			w.text = fmt.Sprintf("%s stopped flapping after %s: %d changes in the last %s (latest: %s)",
				job, fmtDuration(d.now.Sub(open.Since)), n, window, latest)
			w.note = w.text
			d.apply(Resolve, w)
			d.flaps[job] = append(d.flaps[job], flap{open.Since, d.now})
		}
	}
}

// foldedIntoFlapping reports whether o is a bad occurrence without an
// incident of its own that went bad while its job was flapping: it is
// counted in the flapping notice instead.
func (d *decider) foldedIntoFlapping(o *occ) bool {
	if !o.bad {
		return false
	}
	if _, own := d.stored[o.id]; own {
		return false
	}
	since := badSince(o)
	for _, f := range d.flaps[o.res.Job] {
		if !since.Before(f.since) && !since.After(f.until) {
			return true
		}
	}
	return false
}

// badSince is when a bad occurrence went bad: its failure's end, else its
// deadline.
func badSince(o *occ) time.Time {
	if o.failed != nil {
		if !o.failed.FinishedAt.IsZero() {
			return o.failed.FinishedAt
		}
		return o.failed.At()
	}
	return o.res.Deadline
}
