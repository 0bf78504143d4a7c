package stepfunctions

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Check reports whether the source can list its state machines and read
// their executions: what `kant check` shows per source. It lists the state
// machines (ListStateMachines, when a name or glob is configured) and reads
// the newest execution of the first one (ListExecutions, one result); it
// stores and records nothing.
func (p *Poller) Check(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.MachineTimeout)
	defer cancel()
	machines, err := p.list(ctx)
	if machines == nil {
		return "", fmt.Errorf("cannot list state machines: %w", err)
	}
	report := fmt.Sprintf("lists %d matching state machine(s)", len(machines))
	if err != nil {
		report += fmt.Sprintf(" (%v)", err)
	}
	if len(machines) == 0 {
		return report + "; no state machine to read executions of", nil
	}
	var first machine
	for _, m := range machines {
		if first.name == "" || m.name < first.name {
			first = m
		}
	}
	out, err := p.client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(first.arn), MaxResults: 1})
	if err != nil {
		return report, fmt.Errorf("cannot read executions of %s: %w", first.name, err)
	}
	return fmt.Sprintf("%s; reads executions (%s: %d execution(s) on the first page)", report, first.name, len(out.Executions)), nil
}
