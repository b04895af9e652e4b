"""Notifications: Service Bus topic (order events) -> subscription (the notifications
function's queue) with dead-lettering after datamodel.NOTIFICATION_MAX_RECEIVES deliveries;
Communication Services Email (the order-confirmation email); Notification Hubs (push).

The runtime (functions/runtimes/azure_notifications.py) binds the subscription through the
app settings SHOP_TOPIC_ARN (topic name), SHOP_SUBSCRIPTION_NAME and
SHOP_SERVICEBUS__fullyQualifiedNamespace; the notifier sends mail through the ACS endpoint.
Local (SAS key) auth is disabled on Service Bus and ACS: managed identities only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import specs
from providers.azure.env import AzureEnv
from providers.azure.private_endpoints import private_only


@dataclass(frozen=True)
class NotificationsNative:
    namespace: Any
    topic: Any
    subscription: Any
    namespace_host: pulumi.Output[str]  # <ns>.servicebus.windows.net
    communication: Any
    email_service: Any
    email_domain: Any
    email_endpoint: pulumi.Output[str]
    hub_namespace: Any
    hub: Any
    hub_ref: pulumi.Output[str]  # <ns>.servicebus.windows.net/<hub>
    hub_key_secret: Any  # Key Vault secret "<keyName>:<key>" of the hub's send-only rule
    hub_key_secret_uri: pulumi.Output[str]


def _seconds(value: int) -> str:
    return f"PT{value}S"


def create_notifications(
    env: AzureEnv, args: specs.NotificationsArgs, parent: pulumi.Resource
) -> specs.NotificationsResult:
    import pulumi_azure_native.communication as communication
    import pulumi_azure_native.notificationhubs as notificationhubs
    import pulumi_azure_native.servicebus as servicebus

    opts = pulumi.ResourceOptions(parent=parent)
    namespace = servicebus.Namespace(
        "sb",
        resource_group_name=env.rg_name,
        location=env.location,
        # Topics need Standard or Premium; private endpoints need Premium (prod, private_endpoints.py).
        sku={"name": "Premium", "tier": "Premium", "capacity": 1}
        if private_only(env)
        else {"name": "Standard", "tier": "Standard"},
        premium_messaging_partitions=1 if private_only(env) else None,
        minimum_tls_version="1.2",
        disable_local_auth=True,
        public_network_access="Disabled" if private_only(env) else "Enabled",
        tags=env.tags,
        opts=opts,
    )
    topic = servicebus.Topic(
        f"topic-{args.topic_name}",
        resource_group_name=env.rg_name,
        namespace_name=namespace.name,
        topic_name=args.topic_name,
        default_message_time_to_live="P14D",
        enable_batched_operations=True,
        max_size_in_megabytes=1024,
        opts=opts,
    )
    lock = min(args.visibility_timeout_seconds, 300)  # Service Bus caps the peek-lock at 5 minutes
    subscription = servicebus.Subscription(
        f"sub-{args.queue_name}",
        resource_group_name=env.rg_name,
        namespace_name=namespace.name,
        topic_name=topic.name,
        subscription_name=args.queue_name,
        max_delivery_count=args.max_receives,
        lock_duration=_seconds(lock),
        dead_lettering_on_message_expiration=True,
        dead_lettering_on_filter_evaluation_exceptions=True,
        default_message_time_to_live="P14D",
        opts=opts,
    )
    namespace_host = namespace.name.apply(lambda n: f"{n}.servicebus.windows.net")

    s = env.settings
    email_service = communication.EmailService(
        "email",
        resource_group_name=env.rg_name,
        location="global",
        data_location=s.data_location,
        tags=env.tags,
        opts=opts,
    )
    managed = s.email_domain == "AzureManaged"
    email_domain = communication.Domain(
        "email-domain",
        resource_group_name=env.rg_name,
        email_service_name=email_service.name,
        domain_name="AzureManagedDomain" if managed else s.email_domain,
        location="global",
        domain_management="AzureManaged" if managed else "CustomerManaged",
        user_engagement_tracking="Disabled",
        tags=env.tags,
        opts=opts,
    )
    acs = communication.CommunicationService(
        "acs",
        resource_group_name=env.rg_name,
        location="global",
        data_location=s.data_location,
        linked_domains=[email_domain.id],
        disable_local_auth=True,
        tags=env.tags,
        opts=opts,
    )
    email_endpoint = acs.host_name.apply(lambda h: f"https://{h}")
    # An Azure-managed domain sends as DoNotReply@<guid>.azurecomm.net; a custom domain
    # sends as shop:senderEmail once its DNS records are verified (docs/deploy-azure.md).
    sender = (
        email_domain.from_sender_domain.apply(lambda d: f"DoNotReply@{d}")
        if managed
        else pulumi.Output.from_input(args.sender_email)
    )

    hub_namespace = notificationhubs.Namespace(
        "nh",
        resource_group_name=env.rg_name,
        location=env.location,
        namespace_type="NotificationHub",
        sku={"name": "Standard" if env.context.is_prod else "Free"},
        tags=env.tags,
        opts=opts,
    )
    hub = notificationhubs.NotificationHub(
        "hub-orders",
        resource_group_name=env.rg_name,
        namespace_name=hub_namespace.name,
        location=env.location,
        tags=env.tags,
        opts=opts,
    )
    hub_ref = pulumi.Output.concat(hub_namespace.name, ".servicebus.windows.net/", hub.name)
    # Notification Hubs has no Entra data-plane auth: a Send-only SAS rule, its key kept in
    # Key Vault (the notifications function reads it through a Key Vault reference).
    send_rule = notificationhubs.NotificationHubAuthorizationRule(
        "hub-send",
        resource_group_name=env.rg_name,
        namespace_name=hub_namespace.name,
        notification_hub_name=hub.name,
        authorization_rule_name="shop-send",
        rights=["Send"],
        opts=opts,
    )
    keys = notificationhubs.list_notification_hub_keys_output(
        authorization_rule_name=send_rule.name,
        namespace_name=hub_namespace.name,
        notification_hub_name=hub.name,
        resource_group_name=env.rg_name,
    )
    import pulumi_azure_native.keyvault as keyvault

    kv = args.encryption.native
    hub_secret_name = f"{env.context.parameters_path.strip('/').replace('/', '-')}-notificationHubKey"
    hub_key_secret = keyvault.Secret(
        "notification-hub-key",
        resource_group_name=env.rg_name,
        vault_name=kv.vault.name,
        secret_name=hub_secret_name,
        properties={
            "value": pulumi.Output.secret(pulumi.Output.concat(keys.key_name, ":", keys.primary_key)),
            "content_type": "text/plain",
        },
        tags=env.tags,
        opts=pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["properties"]),
    )
    hub_key_secret_uri = pulumi.Output.concat(kv.vault_uri, "secrets/", hub_secret_name, "/")
    native = NotificationsNative(
        namespace, topic, subscription, namespace_host, acs, email_service, email_domain, email_endpoint,
        hub_namespace, hub, hub_ref, hub_key_secret, hub_key_secret_uri,
    )  # fmt: skip
    return specs.NotificationsResult(
        topic_ref=topic.name,
        queue_ref=subscription.id,
        dead_letter_queue_ref=subscription.id.apply(lambda i: f"{i}/$DeadLetterQueue"),
        dead_letter_queue_name=subscription.name.apply(lambda n: f"{n}/$DeadLetterQueue"),
        sender_email=sender,
        native=native,
    )
