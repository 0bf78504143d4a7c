# kant on Cloud Run, keeping its tables in BigQuery (or, with var.cloud_sql,
# in Cloud SQL for PostgreSQL with BigQuery as the BI export). The service
# account it runs as is the identity the AWS module (../aws) trusts, so that
# kant reads Glue, MWAA and Step Functions without AWS keys.

data "google_project" "this" {
  project_id = var.project
}

locals {
  postgres         = var.cloud_sql != null
  dataset_location = coalesce(var.dataset_location, var.region)
  config_dir       = "/etc/kant"
  config_file      = "kant.yaml"

  # Cloud Run's deterministic URL, known before the service exists, so that
  # the kant.yaml it reads can carry it (alerts' links).
  url = "https://${var.name}-${data.google_project.this.number}.${var.region}.run.app"

  kant_yaml = templatefile("${path.module}/kant.yaml.tftpl", {
    timezone      = var.timezone
    project       = var.project
    dataset       = var.dataset_id
    location      = local.dataset_location
    postgres      = local.postgres
    read_token    = var.read_token_secret != null
    cloud_logging = var.cloud_logging_export
    slack_channel = var.slack_channel
    status_url    = local.url
    extra         = var.config_extra
  })

  # Every environment variable the kant.yaml reads as ${NAME}, and the
  # Secret Manager secret Cloud Run takes it from.
  secret_env = merge(
    {
      SLACK_BOT_TOKEN  = google_secret_manager_secret.slack_bot_token.secret_id
      KANT_WRITE_TOKEN = google_secret_manager_secret.write_token.secret_id
    },
    { for id in google_secret_manager_secret.postgres_dsn[*].secret_id : "KANT_POSTGRES_DSN" => id },
    { for id in var.read_token_secret == null ? [] : [var.read_token_secret] : "KANT_READ_TOKEN" => id },
    var.extra_secret_env,
  )
}

resource "google_service_account" "kant" {
  project      = var.project
  account_id   = "${var.name}-run" # 6 to 30 characters
  display_name = "kant"
  description  = "kant: writes its BigQuery dataset and Cloud Logging, reads its secrets; trusted by the AWS role that reads Glue, MWAA and Step Functions."
}

# BigQuery: the store, or the BI export beside Cloud SQL. kant creates its
# tables and views in the dataset at start.
resource "google_bigquery_dataset" "kant" {
  project                    = var.project
  dataset_id                 = var.dataset_id
  location                   = local.dataset_location
  labels                     = var.labels
  description                = "kant: job runs, SLO results, daily SLA, alerts (tables and BI views created by kant)."
  delete_contents_on_destroy = false
}

resource "google_bigquery_dataset_iam_member" "kant_data_editor" {
  project    = var.project
  dataset_id = google_bigquery_dataset.kant.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.kant.member
}

resource "google_project_iam_member" "kant_job_user" {
  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.kant.member
}

resource "google_project_iam_member" "kant_log_writer" {
  project = var.project
  role    = "roles/logging.logWriter"
  member  = google_service_account.kant.member
}

# Secrets. kant.yaml holds none itself: it names them as ${NAME}, and Cloud
# Run sets each NAME from its secret (local.secret_env).

resource "google_secret_manager_secret" "config" {
  project   = var.project
  secret_id = "${var.name}-config"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "config" {
  secret      = google_secret_manager_secret.config.id
  secret_data = local.kant_yaml
}

resource "google_secret_manager_secret" "slack_bot_token" {
  project   = var.project
  secret_id = "${var.name}-slack-bot-token"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "slack_bot_token" {
  secret                 = google_secret_manager_secret.slack_bot_token.id
  secret_data_wo         = var.slack_bot_token
  secret_data_wo_version = var.slack_bot_token_version
}

resource "random_password" "write_token" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret" "write_token" {
  project   = var.project
  secret_id = "${var.name}-write-token"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "write_token" {
  secret                 = google_secret_manager_secret.write_token.id
  secret_data_wo         = coalesce(var.write_token, random_password.write_token.result)
  secret_data_wo_version = var.write_token_version
}

resource "google_secret_manager_secret_iam_member" "kant_accessor" {
  for_each = merge(local.secret_env, { (local.config_file) = google_secret_manager_secret.config.secret_id })

  project   = var.project
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.kant.member
}

resource "google_cloud_run_v2_service" "kant" {
  project             = var.project
  name                = var.name
  location            = var.region
  ingress             = "INGRESS_TRAFFIC_ALL"
  labels              = var.labels
  deletion_protection = var.deletion_protection

  template {
    service_account = google_service_account.kant.email
    labels          = var.labels
    timeout         = "300s"

    # kant polls its sources, evaluates and alerts between requests: its
    # instances never scale to zero and keep their CPU (cpu_idle = false).
    scaling {
      min_instance_count = var.replicas
      max_instance_count = var.replicas
    }

    containers {
      image = var.image
      args  = ["serve", "-config", "${local.config_dir}/${local.config_file}", "-log-format", "json"]

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = false
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value
              version = "latest"
            }
          }
        }
      }

      volume_mounts {
        name       = "config"
        mount_path = local.config_dir
      }

      dynamic "volume_mounts" {
        for_each = google_sql_database_instance.kant[*].connection_name
        content {
          name       = "cloudsql"
          mount_path = "/cloudsql"
        }
      }

      # Ready once the store is open and the first evaluation is written.
      startup_probe {
        period_seconds    = 10
        timeout_seconds   = 5
        failure_threshold = 24
        http_get {
          path = "/readyz"
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3
        http_get {
          path = "/healthz"
        }
      }
    }

    volumes {
      name = "config"
      secret {
        secret = google_secret_manager_secret.config.secret_id
        items {
          # The version Terraform wrote: a changed kant.yaml rolls out a new revision.
          version = google_secret_manager_secret_version.config.version
          path    = local.config_file
        }
      }
    }

    dynamic "volumes" {
      for_each = google_sql_database_instance.kant[*].connection_name
      content {
        name = "cloudsql"
        cloud_sql_instance {
          instances = [volumes.value]
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = local.postgres || var.replicas <= 2
      error_message = "The BigQuery store's lease fits one or two replicas (its DML is serialized per table); set cloud_sql for more."
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.kant_accessor,
    google_secret_manager_secret_version.slack_bot_token,
    google_secret_manager_secret_version.write_token,
    google_secret_manager_secret_version.postgres_dsn,
    google_bigquery_dataset_iam_member.kant_data_editor,
    google_project_iam_member.kant_job_user,
    google_project_iam_member.kant_log_writer,
    google_project_iam_member.kant_cloudsql_client,
  ]
}

# kant checks its own bearer tokens; EventBridge and sensors outside GCP
# cannot present a Google identity token to Cloud Run.
resource "google_cloud_run_v2_service_iam_member" "public" {
  count = var.allow_unauthenticated ? 1 : 0

  project  = var.project
  location = google_cloud_run_v2_service.kant.location
  name     = google_cloud_run_v2_service.kant.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
