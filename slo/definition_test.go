package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestDefinitionValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Definition)
		err    string // part of the error; empty when valid
	}{
		{"the design page's SLO is valid", func(*Definition) {}, ""},
		{"within instead of a deadline is valid", func(d *Definition) { d.Deadline, d.Within = nil, 5*time.Hour }, ""},
		{"a target of 1 is valid", func(d *Definition) { d.Target = 1 }, ""},
		{"a name is required", func(d *Definition) { d.Name = "" }, "slo: name required"},
		{"a job pattern is required", func(d *Definition) { d.Jobs = nil }, `slo "hegel-nightly": jobs: at least one`},
		{"an empty job pattern is an error", func(d *Definition) { d.Jobs = []string{""} }, "jobs: empty pattern"},
		{"a schedule is required", func(d *Definition) { d.Schedule = Schedule{} }, "schedule: required"},
		{"a location is required", func(d *Definition) { d.Location = nil }, "timezone: required"},
		{"a deadline or within is required", func(d *Definition) { d.Deadline = nil }, "one of deadline or within required"},
		{"not both deadline and within", func(d *Definition) { d.Within = time.Hour }, "deadline and within both set"},
		{"within must be positive", func(d *Definition) { d.Deadline, d.Within = nil, -time.Hour }, "within: must be positive"},
		{"a target of 0 is an error", func(d *Definition) { d.Target = 0 }, "target: must be in (0, 1], got 0"},
		{"a target above 1 is an error", func(d *Definition) { d.Target = 95 }, "target: must be in (0, 1], got 95"},
		{"a negative tolerance is an error", func(d *Definition) { d.Tolerance = -time.Minute }, "tolerance: must not be negative"},
		{"a bad deadline clock is an error", func(d *Definition) { d.Deadline = &Clock{25, 0} }, "deadline: hour 25 out of range"},
		{"a bad recover-by clock is an error", func(d *Definition) { d.RecoverBy = &Clock{12, 60} }, "recover_by: minute 60 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := nightly()
			tt.change(&d)
			err := d.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.err)
			}
			if kant.ErrorCode(err) != kant.EINVALID {
				t.Errorf("error code %q, want %q", kant.ErrorCode(err), kant.EINVALID)
			}
		})
	}
}

func TestDefinitionSelects(t *testing.T) {
	d := nightly()
	if !d.Selects("hegel/export_users") || d.Selects("socrates/daily_load") {
		t.Error("Selects does not follow the job patterns")
	}
}
