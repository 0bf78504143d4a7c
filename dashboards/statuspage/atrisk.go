package statuspage

import "github.com/kantproject/kant"

// symbolAtRisk marks an occurrence at risk of missing its deadline
// (kant.Result.AtRisk), beside its pending colour and in its label.
const symbolAtRisk = "⚠"

// markAtRisk returns the symbol and label of a pending occurrence at risk:
// the warning sign, and label with ", at risk" (or "pending: at risk").
// Other results keep symbol and label.
func markAtRisk(r kant.Result, symbol, label string) (string, string) {
	if !r.AtRisk() {
		return symbol, label
	}
	if label == string(kant.VerdictPending) || label == "" {
		return symbolAtRisk, "pending: at risk"
	}
	return symbolAtRisk, label + ", at risk"
}
