"""Notifications: Service Bus topic (order events) -> subscription (the notifications
function's queue) with dead-lettering after datamodel.NOTIFICATION_MAX_RECEIVES deliveries;
Communication Services Email (the order-confirmation email); Notification Hubs (push).

Push: the functions send each order update straight to the customer's FCM tokens through the
hub (direct send, functions/adapters/notification_hubs_push.py); the hub forwards to FCM v1 with
the Firebase project's service-account key, taken from the stack's secret config
(``pulumi config set shop:fcmCredentials --secret < <key>.json``, the same key as on AWS) and checked before
anything is created. Unset: the hub has no FCM credentials and pushes are not delivered (a
warning says so; e-mail is unaffected).

The runtime (functions/runtimes/azure_notifications.py) binds the subscription through the
app settings SHOP_TOPIC_ARN (topic name), SHOP_SUBSCRIPTION_NAME and
SHOP_SERVICEBUS__fullyQualifiedNamespace; the notifier sends mail through the ACS endpoint.
Local (SAS key) auth is disabled on Service Bus and ACS: managed identities only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.communication as communication
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.notificationhubs as notificationhubs
import pulumi_azure_native.servicebus as servicebus

from components import specs
from providers.azure.configuration import secret_name, secret_uri, vault_secret
from providers.azure.encryption import AzureEncryption
from providers.azure.env import AzureEnv
from providers.azure.network import private_only

HUB_KEY_SECRET = "notificationHubKey"


def fcm_credential(push_credentials: pulumi.Output[str] | None) -> notificationhubs.FcmV1CredentialArgs | None:
    """The hub's FCM v1 credentials from `shop:fcmCredentials` (a Pulumi secret, its shape checked
    with the rest of the stack config); None (push not delivered, with a warning) when unset."""
    if push_credentials is None:
        pulumi.log.warn("shop:fcmCredentials is not set: the Notification Hub has no FCM v1 credentials and push "
                        "notifications are not delivered until it is (`pulumi config set shop:fcmCredentials "
                        "--secret < firebase-service-account.json`, then pulumi up)")  # fmt: skip
        return None
    key = push_credentials.apply(json.loads)
    return notificationhubs.FcmV1CredentialArgs(
        client_email=key.apply(lambda k: str(k["client_email"])),
        private_key=key.apply(lambda k: str(k["private_key"])),
        project_id=key.apply(lambda k: str(k["project_id"])),
    )


@dataclass(frozen=True)
class ServiceBus:
    namespace: servicebus.Namespace
    topic: servicebus.Topic
    subscription: servicebus.Subscription

    @property
    def namespace_host(self) -> pulumi.Output[str]:  # <ns>.servicebus.windows.net
        return self.namespace.name.apply(lambda n: f"{n}.servicebus.windows.net")


@dataclass(frozen=True)
class Email:
    service: communication.EmailService
    domain: communication.Domain
    communication: communication.CommunicationService
    sender: pulumi.Output[str]

    @property
    def endpoint(self) -> pulumi.Output[str]:
        return self.communication.host_name.apply(lambda h: f"https://{h}")


@dataclass(frozen=True)
class Push:
    namespace: notificationhubs.Namespace
    hub: notificationhubs.NotificationHub
    key_secret: keyvault.Secret  # Key Vault secret "<keyName>:<key>" of the hub's send-only rule
    key_secret_uri: pulumi.Output[str]

    @property
    def hub_ref(self) -> pulumi.Output[str]:  # <ns>.servicebus.windows.net/<hub>
        return pulumi.Output.concat(self.namespace.name, ".servicebus.windows.net/", self.hub.name)


@dataclass(frozen=True)
class AzureNotifications:
    bus: ServiceBus
    email: Email
    push: Push

    @property
    def result(self) -> specs.NotificationsResult:
        subscription = self.bus.subscription
        return specs.NotificationsResult(
            topic_ref=self.bus.topic.name,
            queue_ref=subscription.id,
            dead_letter_queue_ref=subscription.id.apply(lambda i: f"{i}/$DeadLetterQueue"),
            dead_letter_queue_name=subscription.name.apply(lambda n: f"{n}/$DeadLetterQueue"),
            sender_email=self.email.sender,
        )


def create_notifications(
    env: AzureEnv, args: specs.NotificationsArgs, parent: pulumi.Resource, encryption: AzureEncryption
) -> AzureNotifications:
    opts = pulumi.ResourceOptions(parent=parent)
    return AzureNotifications(
        bus=_service_bus(env, args, opts),
        email=_email(env, args, opts),
        push=_push(env, encryption, parent, fcm_credential(args.push_credentials)),
    )


def _service_bus(env: AzureEnv, args: specs.NotificationsArgs, opts: pulumi.ResourceOptions) -> ServiceBus:
    private = private_only(env)
    namespace = servicebus.Namespace(
        "sb",
        resource_group_name=env.rg_name,
        location=env.location,
        # Topics need Standard or Premium; private endpoints need Premium (prod, network.py).
        sku=servicebus.SBSkuArgs(name=servicebus.SkuName.PREMIUM, tier=servicebus.SkuTier.PREMIUM, capacity=1)
        if private
        else servicebus.SBSkuArgs(name=servicebus.SkuName.STANDARD, tier=servicebus.SkuTier.STANDARD),
        premium_messaging_partitions=1 if private else None,
        minimum_tls_version="1.2",
        disable_local_auth=True,
        public_network_access="Disabled" if private else "Enabled",
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
        lock_duration=f"PT{lock}S",
        dead_lettering_on_message_expiration=True,
        dead_lettering_on_filter_evaluation_exceptions=True,
        default_message_time_to_live="P14D",
        opts=opts,
    )
    return ServiceBus(namespace, topic, subscription)


def _email(env: AzureEnv, args: specs.NotificationsArgs, opts: pulumi.ResourceOptions) -> Email:
    s = env.settings
    service = communication.EmailService(
        "email", resource_group_name=env.rg_name, location="global", data_location=s.data_location, opts=opts
    )
    managed = s.email_domain == "AzureManaged"
    domain = communication.Domain(
        "email-domain",
        resource_group_name=env.rg_name,
        email_service_name=service.name,
        domain_name="AzureManagedDomain" if managed else s.email_domain,
        location="global",
        domain_management="AzureManaged" if managed else "CustomerManaged",
        user_engagement_tracking="Disabled",
        opts=opts,
    )
    acs = communication.CommunicationService(
        "acs",
        resource_group_name=env.rg_name,
        location="global",
        data_location=s.data_location,
        linked_domains=[domain.id],
        disable_local_auth=True,
        opts=opts,
    )
    # An Azure-managed domain sends as DoNotReply@<guid>.azurecomm.net; a custom domain
    # sends as shop:senderEmail once its DNS records are verified (docs/deploy-azure.md).
    sender = (
        domain.from_sender_domain.apply(lambda d: f"DoNotReply@{d}")
        if managed
        else pulumi.Output.from_input(args.sender_email)
    )
    return Email(service, domain, acs, sender)


def _push(env: AzureEnv, encryption: AzureEncryption, parent: pulumi.Resource,
          fcm: notificationhubs.FcmV1CredentialArgs | None) -> Push:  # fmt: skip
    opts = pulumi.ResourceOptions(parent=parent)
    namespace = notificationhubs.Namespace(
        "nh",
        resource_group_name=env.rg_name,
        location=env.location,
        namespace_type="NotificationHub",
        sku=notificationhubs.SkuArgs(name="Standard" if env.context.is_prod else "Free"),
        opts=opts,
    )
    hub = notificationhubs.NotificationHub(
        "hub-orders",
        resource_group_name=env.rg_name,
        namespace_name=namespace.name,
        location=env.location,
        fcm_v1_credential=fcm,  # the hub forwards direct sends to FCM v1 as this account
        opts=opts,
    )
    # Notification Hubs has no Entra data-plane auth: a Send-only SAS rule, its key kept in
    # Key Vault (the notifications function reads it through a Key Vault reference).
    send_rule = notificationhubs.NotificationHubAuthorizationRule(
        "hub-send",
        resource_group_name=env.rg_name,
        namespace_name=namespace.name,
        notification_hub_name=hub.name,
        authorization_rule_name="shop-send",
        rights=["Send"],
        opts=opts,
    )
    keys = notificationhubs.list_notification_hub_keys_output(
        authorization_rule_name=send_rule.name,
        namespace_name=namespace.name,
        notification_hub_name=hub.name,
        resource_group_name=env.rg_name,
    )
    name = secret_name(env, HUB_KEY_SECRET)
    key: pulumi.Output[str] = pulumi.Output.concat(keys.key_name, ":", keys.primary_key)
    key_secret = vault_secret(
        env,
        "notification-hub-key",
        name,
        pulumi.Output.secret(key),
        encryption,
        pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["properties"]),
    )
    return Push(namespace, hub, key_secret, secret_uri(encryption, name))
