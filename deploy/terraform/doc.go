// Package terraform holds the offline checks of the Terraform modules beside
// it (gcp, aws): every file parses and is canonically formatted, every
// variable and output is documented, no resource creates an access key, the
// AWS role's trust policy admits exactly kant's Google service account and
// audience, and the Cloud Run service is given every secret the kant.yaml it
// renders reads. The checks read the .tf files with HCL and evaluate their
// expressions with test inputs; they need neither Terraform, its providers
// nor a cloud account. The package has no code of its own.
package terraform
