# Optional: Cloud SQL for PostgreSQL as kant's store, so that several
# replicas share it (one leads through a fenced lease, every one serves).
# Cloud Run reaches it through its built-in Cloud SQL connection (a Unix
# socket under /cloudsql), authorized by roles/cloudsql.client.

resource "google_sql_database_instance" "kant" {
  count = local.postgres ? 1 : 0

  project             = var.project
  name                = "${var.name}-pg"
  region              = var.region
  database_version    = var.cloud_sql.database_version
  deletion_protection = var.deletion_protection

  settings {
    edition           = "ENTERPRISE"
    tier              = var.cloud_sql.tier
    availability_type = var.cloud_sql.availability_type
    disk_size         = var.cloud_sql.disk_size_gb
    disk_autoresize   = true
    user_labels       = var.labels

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
    }

    # A public address without authorized networks: reachable only through
    # the Cloud SQL connector, which checks IAM.
    ip_configuration {
      ipv4_enabled = true
      ssl_mode     = "ENCRYPTED_ONLY"
    }

    # docs/postgres.md: a transaction left open holds every follower back.
    database_flags {
      name  = "idle_in_transaction_session_timeout"
      value = "600000"
    }
  }
}

resource "google_sql_database" "kant" {
  count = local.postgres ? 1 : 0

  project  = var.project
  name     = "kant"
  instance = google_sql_database_instance.kant[0].name
}

resource "random_password" "postgres" {
  count = local.postgres ? 1 : 0

  length  = 32
  special = false
}

resource "google_sql_user" "kant" {
  count = local.postgres ? 1 : 0

  project  = var.project
  name     = "kant"
  instance = google_sql_database_instance.kant[0].name
  password = random_password.postgres[0].result
}

resource "google_secret_manager_secret" "postgres_dsn" {
  count = local.postgres ? 1 : 0

  project   = var.project
  secret_id = "${var.name}-postgres-dsn"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "postgres_dsn" {
  count = local.postgres ? 1 : 0

  secret      = google_secret_manager_secret.postgres_dsn[0].id
  secret_data = "host=/cloudsql/${google_sql_database_instance.kant[0].connection_name} dbname=${google_sql_database.kant[0].name} user=${google_sql_user.kant[0].name} password=${random_password.postgres[0].result}"
}

resource "google_project_iam_member" "kant_cloudsql_client" {
  count = local.postgres ? 1 : 0

  project = var.project
  role    = "roles/cloudsql.client"
  member  = google_service_account.kant.member
}
