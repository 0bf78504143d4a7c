package glue

import (
	"testing"

	"github.com/kantproject/kant"
)

func TestRunLinkPointsAtTheRunInGlueStudio(t *testing.T) {
	got := RunLink("ap-northeast-1")(kant.Run{Source: "hegel", Job: "hegel/export users", RunID: "jr_1f3a"})
	want := "https://ap-northeast-1.console.aws.amazon.com/gluestudio/home?region=ap-northeast-1#/job/export%20users/run/jr_1f3a"
	if got != want {
		t.Errorf("link\n got %s\nwant %s", got, want)
	}
}
