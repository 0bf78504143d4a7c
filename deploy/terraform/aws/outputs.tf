output "role_arn" {
  description = "The ARN of the role kant assumes: role_arn of kant.yaml's glue (and mwaa) sources."
  value       = aws_iam_role.kant.arn
}

output "web_identity_audience" {
  description = "The audience the role accepts: web_identity_audience of kant.yaml's glue sources."
  value       = var.audience
}

output "glue_source_yaml" {
  description = "A glue source for kant.yaml (the GCP module's config_extra), reading this account's jobs as the role."
  value       = <<-EOT
    sources:
      - name: glue
        type: glue
        region: ${local.region}
        role_arn: ${aws_iam_role.kant.arn}
        web_identity_audience: ${var.audience}
  EOT
}

output "api_destination_arn" {
  description = "The EventBridge API destination that posts to kant, or null without eventbridge_endpoint."
  value       = one(aws_cloudwatch_event_api_destination.kant[*].arn)
}

output "event_rule_arns" {
  description = "The EventBridge rules forwarding Glue and Step Functions state changes to kant, by kind (empty without eventbridge_endpoint)."
  value       = { for k, r in aws_cloudwatch_event_rule.kant : k => r.arn }
}
