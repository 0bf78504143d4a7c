variable "name" {
  type        = string
  description = "The name of the IAM role kant assumes, and the prefix of the EventBridge resources."
  default     = "kant-reader"
}

variable "google_service_account_id" {
  type        = string
  description = "The unique numeric ID of the Google service account kant runs as (the GCP module's service_account_unique_id; gcloud iam service-accounts describe EMAIL --format='value(uniqueId)'). Only that account may assume the role."

  validation {
    condition     = can(regex("^[0-9]{10,32}$", var.google_service_account_id))
    error_message = "google_service_account_id must be the service account's unique numeric ID (uniqueId), not its email."
  }
}

variable "audience" {
  type        = string
  description = "The audience of the Google ID token kant presents: kant.yaml's web_identity_audience. The trust policy refuses a token for any other."
  default     = "kant-glue-reader"

  validation {
    condition     = length(var.audience) > 0
    error_message = "audience must not be empty."
  }
}

variable "glue_jobs" {
  type        = list(string)
  description = "The Glue job names (or IAM wildcards, like export_*) kant may read; the default is every job of the account in the provider's region."
  default     = ["*"]
}

variable "mwaa_environments" {
  type        = list(string)
  description = "The MWAA environments kant reads through airflow:InvokeRestApi; empty grants no MWAA access."
  default     = []
}

variable "mwaa_airflow_role" {
  type        = string
  description = "The Airflow role kant's InvokeRestApi calls act as in each MWAA environment; Viewer reads DAG runs and task instances."
  default     = "Viewer"
}

variable "mwaa_web_login" {
  type        = bool
  description = "Whether kant may also call airflow:CreateWebLoginToken, which it falls back to on MWAA environments older than Airflow 2.4.3 (no InvokeRestApi)."
  default     = false
}

variable "state_machines" {
  type        = list(string)
  description = "The Step Functions state machine names (or IAM wildcards) whose executions kant may list and describe."
  default     = ["*"]
}

variable "eventbridge_endpoint" {
  type        = string
  description = "kant's base URL, like https://kant-123456789012.asia-northeast1.run.app: when set, EventBridge sends Glue job and Step Functions execution state changes to <it>/v1/events/aws. null creates no EventBridge resource."
  default     = null

  validation {
    condition     = var.eventbridge_endpoint == null || can(regex("^https://[^/]+(/.*)?$", var.eventbridge_endpoint))
    error_message = "eventbridge_endpoint must be an https:// URL (API destinations call only HTTPS endpoints)."
  }
}

variable "write_token" {
  type        = string
  description = "kant's write token, which the EventBridge connection sends as Authorization: Bearer <token>; required with eventbridge_endpoint. EventBridge keeps it in a Secrets Manager secret it manages; Terraform keeps it in its state."
  default     = null
  sensitive   = true
}

variable "tags" {
  type        = map(string)
  description = "Tags put on every resource."
  default     = { app = "kant" }
}
