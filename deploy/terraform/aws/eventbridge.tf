# Optional (var.eventbridge_endpoint): EventBridge delivers Glue job and Step
# Functions execution state changes to kant's POST /v1/events/aws as they
# happen, beside kant's polls. The connection authenticates with kant's
# write token (Authorization: Bearer <token>); EventBridge invokes the API
# destination as a role of its own.

locals {
  eventbridge = var.eventbridge_endpoint != null

  event_patterns = {
    glue = {
      source      = ["aws.glue"]
      detail-type = ["Glue Job State Change", "Glue Job Run Status"]
    }
    states = {
      source      = ["aws.states"]
      detail-type = ["Step Functions Execution Status Change"]
    }
  }
}

resource "aws_cloudwatch_event_connection" "kant" {
  count = local.eventbridge ? 1 : 0

  name               = "${var.name}-kant"
  description        = "kant's write token, for POST /v1/events/aws."
  authorization_type = "API_KEY"

  auth_parameters {
    api_key {
      key   = "Authorization"
      value = "Bearer ${var.write_token}"
    }
  }

  lifecycle {
    precondition {
      condition     = var.write_token != null
      error_message = "write_token is required with eventbridge_endpoint: kant accepts EventBridge deliveries with its write token."
    }
  }
}

resource "aws_cloudwatch_event_api_destination" "kant" {
  count = local.eventbridge ? 1 : 0

  name                             = "${var.name}-kant"
  description                      = "kant's POST /v1/events/aws."
  invocation_endpoint              = "${trimsuffix(var.eventbridge_endpoint, "/")}/v1/events/aws"
  http_method                      = "POST"
  invocation_rate_limit_per_second = 20
  connection_arn                   = aws_cloudwatch_event_connection.kant[0].arn
}

resource "aws_cloudwatch_event_rule" "kant" {
  for_each = local.eventbridge ? local.event_patterns : {}

  name          = "${var.name}-${each.key}"
  description   = "${each.key} state changes, to kant."
  event_pattern = jsonencode(each.value)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "kant" {
  for_each = aws_cloudwatch_event_rule.kant

  rule     = each.value.name
  arn      = aws_cloudwatch_event_api_destination.kant[0].arn
  role_arn = aws_iam_role.eventbridge[0].arn

  # kant stores a repeated delivery once; keep trying through an outage.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
}

data "aws_iam_policy_document" "eventbridge_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "eventbridge" {
  count = local.eventbridge ? 1 : 0

  name               = "${var.name}-eventbridge"
  description        = "EventBridge, invoking kant's API destination."
  assume_role_policy = data.aws_iam_policy_document.eventbridge_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "eventbridge" {
  count = local.eventbridge ? 1 : 0

  name = "invoke-kant"
  role = aws_iam_role.eventbridge[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "events:InvokeApiDestination"
      Resource = aws_cloudwatch_event_api_destination.kant[0].arn
    }]
  })
}
