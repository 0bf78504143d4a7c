# The AWS side of kant on GCP: a role that exactly kant's Google service
# account may assume (AssumeRoleWithWebIdentity with a Google ID token; no
# AWS access key exists anywhere), allowed to read Glue jobs and workflows,
# MWAA's Airflow REST API and Step Functions executions.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  region     = data.aws_region.current.name
  account    = data.aws_caller_identity.current.account_id
}

# Google is a built-in web identity provider of IAM (no OIDC provider to
# create). IAM exposes a Google ID token's azp as accounts.google.com:aud,
# its aud as accounts.google.com:oaud and its sub as accounts.google.com:sub
# (docs/glue.md): azp and sub are the service account's unique ID, aud the
# audience kant asked the metadata server for.
data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "KantServiceAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = ["accounts.google.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:aud"
      values   = [var.google_service_account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:sub"
      values   = [var.google_service_account_id]
    }

    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:oaud"
      values   = [var.audience]
    }
  }
}

# Read-only: kant never changes a job, a workflow or an execution.
data "aws_iam_policy_document" "read" {
  statement {
    sid = "GlueJobs"
    actions = [
      "glue:GetJob",
      "glue:GetJobs",
      "glue:GetJobRun",
      "glue:GetJobRuns",
    ]
    resources = [for j in var.glue_jobs : "${local.arn_prefix}:glue:${local.region}:${local.account}:job/${j}"]
  }

  statement {
    sid = "GlueWorkflows"
    actions = [
      "glue:GetWorkflow",
      "glue:GetWorkflowRun",
      "glue:GetWorkflowRuns",
    ]
    resources = ["${local.arn_prefix}:glue:${local.region}:${local.account}:workflow/*"]
  }

  # List calls take no resource.
  statement {
    sid = "GlueList"
    actions = [
      "glue:ListJobs",
      "glue:ListWorkflows",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = length(var.mwaa_environments) > 0 ? [1] : []
    content {
      sid       = "MWAARestApi"
      actions   = var.mwaa_web_login ? ["airflow:InvokeRestApi", "airflow:CreateWebLoginToken"] : ["airflow:InvokeRestApi"]
      resources = [for e in var.mwaa_environments : "${local.arn_prefix}:airflow:${local.region}:${local.account}:role/${e}/${var.mwaa_airflow_role}"]
    }
  }

  statement {
    sid       = "StepFunctionsList"
    actions   = ["states:ListStateMachines"]
    resources = ["*"]
  }

  statement {
    sid       = "StepFunctionsExecutions"
    actions   = ["states:ListExecutions"]
    resources = [for m in var.state_machines : "${local.arn_prefix}:states:${local.region}:${local.account}:stateMachine:${m}"]
  }

  statement {
    sid       = "StepFunctionsExecution"
    actions   = ["states:DescribeExecution"]
    resources = [for m in var.state_machines : "${local.arn_prefix}:states:${local.region}:${local.account}:execution:${m}:*"]
  }
}

resource "aws_iam_role" "kant" {
  name                 = var.name
  description          = "kant on GCP, as Google service account ${var.google_service_account_id}: reads Glue, MWAA and Step Functions."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "read" {
  name   = "kant-read"
  role   = aws_iam_role.kant.id
  policy = data.aws_iam_policy_document.read.json
}
