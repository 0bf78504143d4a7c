package alert

import (
	"context"
	"time"
)

// ReadInput is the Engine's read of what Decide decides on, for tests.
func (e *Engine) ReadInput(ctx context.Context, now time.Time) (Input, error) {
	return e.input(ctx, now)
}
