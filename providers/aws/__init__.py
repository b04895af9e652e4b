"""The AWS implementation of the provider interface (``provider.py``): one module per component kind.

encryption     encryption.py     KMS key + alias
network        network.py        VPC, subnets, IGW, NAT, routes, endpoints, SGs, flow logs
database       database.py       DynamoDB
notifications  notifications.py  SNS, SQS (+ DLQ), SES
auth           auth.py           Cognito
static_site    static_site.py    S3 site bucket + files
functions      functions.py      Lambda (+ iam.py roles, packaging.py code/layer)
api            api.py            API Gateway HTTP API
cdn            cdn.py            CloudFront (+ firewall.py WAFv2, certificate.py ACM/Route 53)
configuration  configuration.py  SSM Parameter Store
monitoring     monitoring.py     CloudWatch alarms + dashboard, alarm SNS topic
(every resource) env.py          explicit providers with default tags, settings.py

Nothing is imported here: ``providers.aws.iam`` must load without Pulumi (the local stack
uses it to evaluate the functions' policies).
"""
