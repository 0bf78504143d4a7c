variable "project" {
  type        = string
  description = "The GCP project kant runs in and keeps its BigQuery dataset in."
}

variable "region" {
  type        = string
  description = "The region of the Cloud Run service, the secrets' replicas and the optional Cloud SQL instance."
  default     = "asia-northeast1"
}

variable "name" {
  type        = string
  description = "The name of the Cloud Run service, and the prefix of the service account, the secrets and the Cloud SQL instance."
  default     = "kant"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}[a-z0-9]$", var.name))
    error_message = "The name must be 2 to 22 lowercase letters, digits or dashes, starting with a letter (the service account is <name>-run, 6 to 30 characters)."
  }
}

variable "image" {
  type        = string
  description = "The kant container image, like asia-northeast1-docker.pkg.dev/my-project/kant/kant:v1.2.3 (built from deploy/image); its entrypoint is the kant binary."
}

variable "labels" {
  type        = map(string)
  description = "Labels put on the dataset, the secrets, the Cloud Run service and the Cloud SQL instance."
  default     = { app = "kant" }
}

variable "dataset_id" {
  type        = string
  description = "The BigQuery dataset kant keeps its tables and BI views in: the store itself, or the export beside Cloud SQL."
  default     = "kant"
}

variable "dataset_location" {
  type        = string
  description = "The location of the BigQuery dataset, like asia-northeast1 or US; null means the region."
  default     = null
}

variable "timezone" {
  type        = string
  description = "kant.yaml's timezone: the IANA zone of SLOs that name none, like Asia/Tokyo."
  default     = "UTC"
}

variable "slack_channel" {
  type        = string
  description = "The Slack channel alerts go to when an SLO names none, like #data-alerts."
  default     = "#data-alerts"

  validation {
    condition     = can(regex("^[#@]?[A-Za-z0-9._-]+$", var.slack_channel))
    error_message = "The Slack channel must be a channel name like #data-alerts or a channel ID."
  }
}

variable "slack_bot_token" {
  type        = string
  description = "The Slack bot token (xoxb-...), written to the Slack token secret as a write-only value: it is in neither the plan nor the state. Give it as TF_VAR_slack_bot_token."
  sensitive   = true
  ephemeral   = true
}

variable "slack_bot_token_version" {
  type        = number
  description = "Bump it to write a new slack_bot_token to the secret (a write-only value is written only when this changes)."
  default     = 1
}

variable "write_token" {
  type        = string
  description = "The bearer token kant's POST endpoints accept (pushes, silences, EventBridge deliveries), written to its secret as a write-only value; null generates a random one, which the Terraform state then holds."
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "write_token_version" {
  type        = number
  description = "Bump it to write a new write_token to the secret."
  default     = 1
}

variable "read_token_secret" {
  type        = string
  description = "The ID of a Secret Manager secret of this project (created outside this module) holding a read token: when set, the gate and the read API need Authorization: Bearer <it> (tokens.read) and the status page is off. null leaves reads open."
  default     = null
}

variable "config_extra" {
  type        = string
  description = "YAML appended to the kant.yaml Terraform renders: top-level keys it does not set itself, like sources, slos and evaluate (not listen, timezone, store, export, tokens or alerts). Secrets in it are written as $${NAME} and listed in extra_secret_env."
  default     = ""
}

variable "extra_secret_env" {
  type        = map(string)
  description = "Environment variables the config_extra reads as $${NAME}, each from a Secret Manager secret of this project (its ID, created outside this module), like { AIRFLOW_PASSWORD = \"kant-airflow-password\" }."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_secret_env) : can(regex("^[A-Z_][A-Z0-9_]*$", k))])
    error_message = "Each key of extra_secret_env must be an environment variable name like AIRFLOW_PASSWORD."
  }
}

variable "cloud_logging_export" {
  type        = bool
  description = "Whether kant also writes every observation and verdict to Cloud Logging (export.cloud_logging), for a Logs Router sink."
  default     = true
}

variable "cpu" {
  type        = string
  description = "The CPU of the kant container. CPU always allocated needs at least 1."
  default     = "1"
}

variable "memory" {
  type        = string
  description = "The memory of the kant container."
  default     = "512Mi"
}

variable "replicas" {
  type        = number
  description = "How many instances of kant always run (Cloud Run's minimum and maximum). With the BigQuery store, 1 or 2 (its lease costs DML); with Cloud SQL, any number."
  default     = 1

  validation {
    condition     = var.replicas >= 1 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number, at least 1: kant polls and alerts between requests."
  }
}

variable "allow_unauthenticated" {
  type        = bool
  description = "Whether anyone may reach the service (roles/run.invoker for allUsers). kant checks its own bearer tokens; EventBridge and sensors outside GCP cannot present a Google identity token."
  default     = true
}

variable "cloud_sql" {
  type = object({
    tier              = optional(string, "db-f1-micro")
    availability_type = optional(string, "ZONAL")
    database_version  = optional(string, "POSTGRES_15")
    disk_size_gb      = optional(number, 10)
  })
  description = "When set, a Cloud SQL for PostgreSQL instance becomes kant's store (so that several replicas share it) and BigQuery keeps the BI tables (export.bigquery); availability_type REGIONAL for a standby in a second zone. null keeps BigQuery as the store."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Whether Terraform refuses to destroy the Cloud Run service and the Cloud SQL instance."
  default     = true
}
