package slo

import (
	"strings"
	"testing"
	"time"

	"github.com/kantproject/kant"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		name string
		spec string
		date string   // a date to expand in Tokyo
		want []string // "HH:MM" ticks on that date
	}{
		{"a daily schedule ticks once", "0 1 * * *", "2026-06-10", []string{"01:00"}},
		{"a step over the whole range ticks every 15 minutes", "*/15 9 * * *", "2026-06-10", []string{"09:00", "09:15", "09:30", "09:45"}},
		{"a stepped range ticks on every second value", "1-5/2 0 * * *", "2026-06-10", []string{"00:01", "00:03", "00:05"}},
		{"a value with a step runs to the end of the range", "50/5 23 * * *", "2026-06-10", []string{"23:50", "23:55"}},
		{"a list of hours ticks at each", "30 6,18 * * *", "2026-06-10", []string{"06:30", "18:30"}},
		{"weekday names select Monday to Friday", "0 0 * * MON-FRI", "2026-06-13", nil},
		{"weekday names match a weekday", "0 0 * * mon-fri", "2026-06-12", []string{"00:00"}},
		{"7 is Sunday", "0 0 * * 7", "2026-06-14", []string{"00:00"}},
		{"0 is Sunday", "0 0 * * 0", "2026-06-14", []string{"00:00"}},
		{"a weekday range may end at 7", "0 0 * * 5-7", "2026-06-14", []string{"00:00"}},
		{"month names are case-insensitive", "0 0 * jun,Jul *", "2026-06-10", []string{"00:00"}},
		{"a month not listed has no ticks", "0 0 * JAN-MAY *", "2026-06-10", nil},
		{"day of month or weekday when both are restricted: the 1st", "0 0 1,15 * MON", "2026-06-01", []string{"00:00"}},
		{"day of month or weekday when both are restricted: a Monday", "0 0 1,15 * MON", "2026-06-08", []string{"00:00"}},
		{"day of month or weekday when both are restricted: neither", "0 0 1,15 * MON", "2026-06-09", nil},
		{"day of month and weekday when one starts with a star", "0 0 */2 * MON", "2026-06-08", nil},
		{"day of month and weekday when one starts with a star: both", "0 0 */2 * MON", "2026-06-15", []string{"00:00"}},
		{"@daily is midnight", "@daily", "2026-06-10", []string{"00:00"}},
		{"@midnight is midnight", "@MIDNIGHT", "2026-06-10", []string{"00:00"}},
		{"@weekly is Sunday midnight", "@weekly", "2026-06-14", []string{"00:00"}},
		{"@weekly has no tick on a Monday", "@weekly", "2026-06-15", nil},
		{"@monthly is the 1st", "@monthly", "2026-06-01", []string{"00:00"}},
		{"@yearly is 1 January", "@yearly", "2027-01-01", []string{"00:00"}},
		{"@annually is not in June", "@annually", "2026-06-01", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tt.spec {
				t.Errorf("String() = %q, want %q", s.String(), tt.spec)
			}
			var got []string
			for _, tick := range s.TicksOn(date(tt.date), tokyo) {
				if tick.Location() != tokyo || kant.DateOf(tick) != date(tt.date) {
					t.Errorf("tick %v is not on %s in Tokyo", tick, tt.date)
				}
				got = append(got, tick.Format("15:04"))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ticks on %s = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestParseScheduleCounts(t *testing.T) {
	for spec, want := range map[string]int{
		"*/15 * * * *":    96,
		"@hourly":         24,
		"* * * * *":       1440,
		"0 */2 * * *":     12,
		"0,30 8-17 * * *": 20,
	} {
		if got := len(mustSchedule(spec).TicksOn(date("2026-06-10"), tokyo)); got != want {
			t.Errorf("%q: %d ticks a day, want %d", spec, got, want)
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string // the whole message, or a part when it starts with "…"
	}{
		{"an hour out of range names the field and the value", "0 25 * * *", `schedule "0 25 * * *": hour 25 out of range 0-23`},
		{"a minute out of range", "60 * * * *", `schedule "60 * * * *": minute 60 out of range 0-59`},
		{"day of month zero", "0 0 0 * *", `schedule "0 0 0 * *": day-of-month 0 out of range 1-31`},
		{"month 13", "0 0 * 13 *", `schedule "0 0 * 13 *": month 13 out of range 1-12`},
		{"weekday 8", "0 0 * * 8", `schedule "0 0 * * 8": day-of-week 8 out of range 0-7`},
		{"an unknown month name", "0 0 * FOO *", `schedule "0 0 * FOO *": month "FOO" is not a number or a month name`},
		{"a word for a minute", "x * * * *", `schedule "x * * * *": minute "x" is not a number`},
		{"four fields", "0 1 * *", `schedule "0 1 * *": want 5 fields (minute hour day-of-month month day-of-week), got 4`},
		{"six fields", "0 0 1 * * *", "…want 5 fields"},
		{"an empty schedule", "", "…got 0"},
		{"a zero step", "*/0 * * * *", `schedule "*/0 * * * *": minute step "0" in "*/0": want a positive number`},
		{"a backwards range", "0 5-1 * * *", `schedule "0 5-1 * * *": hour range "5-1": start after end`},
		{"an empty list element", "1,,2 * * * *", `schedule "1,,2 * * * *": minute "1,,2": empty list element`},
		{"a range missing its end", "0 1- * * *", "…hour value missing"},
		{"an unknown macro", "@reboot", "…unknown macro"},
		{"a date that never occurs", "0 0 30 2 *", `schedule "0 0 30 2 *": day-of-month 30 never occurs in month 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSchedule(tt.spec)
			if err == nil {
				t.Fatalf("ParseSchedule(%q) succeeded", tt.spec)
			}
			if kant.ErrorCode(err) != kant.EINVALID {
				t.Errorf("error code %q, want %q", kant.ErrorCode(err), kant.EINVALID)
			}
			if part, ok := strings.CutPrefix(tt.want, "…"); ok {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			} else if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestScheduleFeb29(t *testing.T) {
	s := mustSchedule("0 0 29 2 *")
	next, ok := s.Next(jst("2026-06-10 00:00"), tokyo)
	if !ok || !next.Equal(jst("2028-02-29 00:00")) {
		t.Errorf("Next = %v, %v; want 2028-02-29", next, ok)
	}
	prev, ok := s.Prev(jst("2026-06-10 00:00"), tokyo)
	if !ok || !prev.Equal(jst("2024-02-29 00:00")) {
		t.Errorf("Prev = %v, %v; want 2024-02-29", prev, ok)
	}
}

func TestScheduleDST(t *testing.T) {
	tests := []struct {
		name string
		spec string
		date string
		want []string // RFC 3339 UTC
	}{
		{"a tick in the spring-forward gap moves forward and stays one", "30 2 * * *", "2026-03-08", []string{"2026-03-08T07:30:00Z"}},
		{"a tick before the spring-forward gap is in standard time", "30 1 * * *", "2026-03-08", []string{"2026-03-08T06:30:00Z"}},
		{"a tick in the repeated fall-back hour is its first instance", "30 1 * * *", "2026-11-01", []string{"2026-11-01T05:30:00Z"}},
		{"a gap tick equal to a later tick is one tick", "0 2,3 * * *", "2026-03-08", []string{"2026-03-08T07:00:00Z"}},
		{"a gap tick is kept in time order", "30 2,3 * * *", "2026-03-08", []string{"2026-03-08T07:30:00Z"}},
		{"a gap tick after an earlier one", "0,45 2 * * *", "2026-03-08", []string{"2026-03-08T07:00:00Z", "2026-03-08T07:45:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tick := range mustSchedule(tt.spec).TicksOn(date(tt.date), newYork) {
				got = append(got, tick.UTC().Format(time.RFC3339))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ticks = %v, want %v", got, tt.want)
			}
		})
	}
	berlin := mustLoad("Europe/Berlin")
	for _, tt := range []struct{ name, spec, date, want string }{
		{"east of UTC a gap tick also moves forward", "30 2 * * *", "2026-03-29", "2026-03-29T01:30:00Z"},
		{"east of UTC a repeated tick is also the first instance", "30 2 * * *", "2026-10-25", "2026-10-25T00:30:00Z"},
	} {
		ticks := mustSchedule(tt.spec).TicksOn(date(tt.date), berlin)
		if len(ticks) != 1 || ticks[0].UTC().Format(time.RFC3339) != tt.want {
			t.Errorf("%s: ticks = %v, want %s", tt.name, ticks, tt.want)
		}
	}
	hourly := mustSchedule("0 * * * *")
	if n := len(hourly.TicksOn(date("2026-03-08"), newYork)); n != 23 {
		t.Errorf("hourly on the spring-forward day: %d ticks, want 23", n)
	}
	if n := len(hourly.TicksOn(date("2026-11-01"), newYork)); n != 24 {
		t.Errorf("hourly on the fall-back day: %d ticks, want 24 (one per wall-clock hour)", n)
	}
}

func TestSchedulePrevNext(t *testing.T) {
	s := mustSchedule("0 9,13 * * MON-FRI")
	tests := []struct {
		name       string
		t          time.Time
		prev, next time.Time
	}{
		{"on a tick", jst("2026-06-10 09:00"), jst("2026-06-10 09:00"), jst("2026-06-10 13:00")},
		{"between ticks", jst("2026-06-10 10:00"), jst("2026-06-10 09:00"), jst("2026-06-10 13:00")},
		{"before the day's first tick", jst("2026-06-10 08:59"), jst("2026-06-09 13:00"), jst("2026-06-10 09:00")},
		{"over a weekend", jst("2026-06-13 12:00"), jst("2026-06-12 13:00"), jst("2026-06-15 09:00")},
		{"in another zone", time.Date(2026, 6, 10, 3, 30, 0, 0, time.UTC), jst("2026-06-10 09:00"), jst("2026-06-10 13:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, ok := s.Prev(tt.t, tokyo); !ok || !p.Equal(tt.prev) {
				t.Errorf("Prev = %v, %v; want %v", p, ok, tt.prev)
			}
			if n, ok := s.Next(tt.t, tokyo); !ok || !n.Equal(tt.next) {
				t.Errorf("Next = %v, %v; want %v", n, ok, tt.next)
			}
		})
	}
	var zero Schedule
	if _, ok := zero.Prev(jst("2026-06-10 00:00"), tokyo); ok {
		t.Error("the zero schedule has a previous tick")
	}
	if !zero.IsZero() || s.IsZero() {
		t.Error("IsZero is wrong")
	}
}

func TestScheduleText(t *testing.T) {
	var s Schedule
	if err := s.UnmarshalText([]byte("0 1 * * *")); err != nil {
		t.Fatal(err)
	}
	if s != mustSchedule("0 1 * * *") {
		t.Error("UnmarshalText differs from ParseSchedule")
	}
	if b, _ := s.MarshalText(); string(b) != "0 1 * * *" {
		t.Errorf("MarshalText = %q", b)
	}
	if err := s.UnmarshalText([]byte("0 24 * * *")); err == nil {
		t.Error("UnmarshalText accepted hour 24")
	}
}

func TestDayNumbers(t *testing.T) {
	for d := time.Date(1899, 12, 1, 12, 0, 0, 0, time.UTC); d.Year() < 2101; d = d.AddDate(0, 0, 1) {
		kd := kant.DateOf(d)
		n := dayNum(kd)
		if want := floorDiv(int(d.Unix()), 86400); n != want {
			t.Fatalf("dayNum(%s) = %d, want %d", kd, n, want)
		}
		if back := dateOfNum(n); back != kd {
			t.Fatalf("dateOfNum(%d) = %s, want %s", n, back, kd)
		}
		if wd := weekdayOfNum(n); wd != d.Weekday() {
			t.Fatalf("weekday of %s = %s, want %s", kd, wd, d.Weekday())
		}
	}
}
