output "url" {
  description = "kant's URL (the Cloud Run service): kant gate wait -url, Airflow sensors, and the AWS module's eventbridge_endpoint."
  value       = google_cloud_run_v2_service.kant.uri
}

output "service_account_email" {
  description = "The service account kant runs as."
  value       = google_service_account.kant.email
}

output "service_account_unique_id" {
  description = "The service account's unique numeric ID: the AWS module's google_service_account_id, which its role's trust policy pins."
  value       = google_service_account.kant.unique_id
}

output "dataset" {
  description = "The BigQuery dataset kant writes, as project.dataset."
  value       = "${var.project}.${google_bigquery_dataset.kant.dataset_id}"
}

output "write_token_secret" {
  description = "The Secret Manager secret holding the write token (gcloud secrets versions access latest --secret ...): the AWS module's write_token, and pushers' Authorization: Bearer."
  value       = google_secret_manager_secret.write_token.secret_id
}

output "kant_yaml" {
  description = "The kant.yaml the service reads (it names its secrets as $${NAME} and holds none of them)."
  value       = local.kant_yaml
}

output "cloud_sql_connection_name" {
  description = "The Cloud SQL instance's connection name (project:region:instance), or null without cloud_sql."
  value       = one(google_sql_database_instance.kant[*].connection_name)
}
