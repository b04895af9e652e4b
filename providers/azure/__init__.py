"""The Azure implementation of the provider interface (pulumi-azure-native, pulumi-azuread):
``provider.py`` holds the ``Provider`` class, one module per component kind beside it
(the same file list as providers/aws and providers/gcp).

encryption     encryption.py     Key Vault (RBAC), stack key, CMK identity
network        network.py        VNet, delegated function subnets, NAT gateway + IP, NSG,
                                 private endpoints (prod)
database       database.py       Cosmos DB for NoSQL (serverless), database, container
notifications  notifications.py  Service Bus topic/subscription (DLQ), ACS Email, Notification Hubs
auth           auth.py           Entra External ID app registrations (pulumi-azuread) in a tenant
                                 made by hand (ARM cannot create it), or references to them
static_site    static_site.py    storage account static website + files + config.json
functions      functions.py      Flex Consumption Function Apps, identities, Log Analytics,
                                 Application Insights (+ packaging.py; roles: iam.py)
api            api.py            API Management (Consumption), operations from the route table
cdn            cdn.py            Front Door Standard/Premium (+ firewall.py: WAF policy,
                                 certificate.py: custom domain and its DNS records)
configuration  configuration.py  Key Vault secrets under <project>-<stack>-
monitoring     monitoring.py     action group + metric alerts

The resource group every resource lives in is made by ``Provider.foundation``; env.py tags
every taggable resource once.
"""
