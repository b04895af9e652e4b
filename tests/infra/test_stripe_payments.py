"""Card payments through Stripe on every cloud: the keys go from `pulumi config set --secret` into
the cloud's secret store (Parameter Store SecureString, Key Vault, Secret Manager), never into a
plain function setting; only the orders function can read them; the storefront learns only the
publishable key, and its CSP admits Stripe.js only on a stack that takes cards.

The AWS dev stack and the Azure and GCP prod stacks take cards (conftest STRIPE_CONFIG); the
others do not, and must look exactly as before.
"""

from __future__ import annotations

import json

import pulumi
import pytest

from components.config import ConfigError, load_stack_config, parse_stack_config
from functions.shop import datamodel as dm
from functions.shop import security_headers
from providers.azure import iam as azure_iam
from providers.gcp import iam as gcp_iam

from .conftest import ACCOUNT, STRIPE_CONFIG, BuiltStack

AZ = "azure-native:"
G = "gcp:"
SECRET_VALUES = (STRIPE_CONFIG["stripeSecretKey"], STRIPE_CONFIG["stripeWebhookSecret"])
WEBHOOK_PATH = "/api/payments/webhook"
STRIPE_HOSTS = (
    *security_headers.STRIPE_SCRIPT_ORIGINS,
    *security_headers.STRIPE_FRAME_ORIGINS,
    *security_headers.STRIPE_CONNECT_ORIGINS,
)
BASE = {"alertEmail": "oncall@example.com", "senderEmail": "shop@example.com"}


def _takes_cards(stack: BuiltStack) -> bool:
    return bool(stack.config.get("stripeSecretKey"))


def _no_secret_in(stack: BuiltStack, typ: str) -> None:
    """No resource of `typ` holds Stripe's secret values in its inputs (settings, environment)."""
    for r in stack.of_type(typ):
        text = json.dumps(r.inputs, default=str)
        leaked = [v[:8] for v in SECRET_VALUES if v in text]
        assert not leaked, f"{r.name}: Stripe secrets {leaked}... in plain settings"


# -- config ------------------------------------------------------------------------------------


def test_the_three_stripe_keys_go_together_in_one_mode():
    config = parse_stack_config({**BASE, **STRIPE_CONFIG})
    assert config.takes_cards and config.stripe_publishable_key == STRIPE_CONFIG["stripePublishableKey"]
    assert not parse_stack_config(BASE).takes_cards
    with pytest.raises(ConfigError) as missing:
        parse_stack_config({**BASE, "stripeSecretKey": STRIPE_CONFIG["stripeSecretKey"]})
    assert "shop:stripeWebhookSecret is required with the other Stripe keys" in str(missing.value)
    assert "pulumi config set shop:stripePublishableKey pk_test_..." in str(missing.value)
    with pytest.raises(ConfigError) as mixed:
        parse_stack_config({**BASE, **STRIPE_CONFIG, "stripePublishableKey": "pk_live_51ShopLiveKey0123456789"})
    assert "is a test key but shop:stripePublishableKey a live key" in str(mixed.value)
    assert "pulumi config set --secret shop:stripeSecretKey sk_live_" in str(mixed.value)
    live = {"stripeSecretKey": "rk_live_51Restricted0123456789", "stripePublishableKey": "pk_live_51Live0123456789"}
    assert parse_stack_config({**BASE, **STRIPE_CONFIG, **live}).takes_cards, "restricted live keys are accepted"


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("stripeSecretKey", "pk_test_51NotASecretKey0123", "must be a Stripe secret key"),
        ("stripeWebhookSecret", "sk_test_51NotASigningSecret", "must be a webhook endpoint's signing secret"),
        ("stripePublishableKey", "sk_test_51NotPublishable0123", "must be a Stripe publishable key"),
    ],
)
def test_a_malformed_stripe_key_is_refused_with_its_fix_and_never_echoed(key: str, value: str, says: str):
    with pytest.raises(ConfigError) as err:
        parse_stack_config({**BASE, **STRIPE_CONFIG, key: value})
    message = str(err.value)
    assert f"shop:{key} {says}" in message and f"pulumi config set shop:{key}" in message, message
    if key != "stripePublishableKey":
        assert value not in message, "a secret must never appear in an error message"


def test_the_stripe_secrets_are_refused_unless_set_with_secret():
    pulumi.runtime.set_all_config({f"shop:{k}": v for k, v in {**BASE, **STRIPE_CONFIG}.items()}, [])
    with pytest.raises(ConfigError) as err:
        load_stack_config()
    message = str(err.value)
    for key in ("stripeSecretKey", "stripeWebhookSecret"):
        assert f"shop:{key} must be set with --secret" in message, message
        assert f"`pulumi config set --secret shop:{key} " in message, message
    assert "stripePublishableKey must" not in message, "the publishable key is meant for browsers"
    assert not any(v in message for v in SECRET_VALUES)
    secret = ["shop:stripeSecretKey", "shop:stripeWebhookSecret"]
    pulumi.runtime.set_all_config({f"shop:{k}": v for k, v in {**BASE, **STRIPE_CONFIG}.items()}, secret)
    assert load_stack_config().takes_cards


# -- every cloud -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["aws-dev", "aws-prod", "azure-dev", "azure-prod", "gcp-dev", "gcp-prod"])
def stack(request: pytest.FixtureRequest) -> BuiltStack:
    return request.getfixturevalue({"aws-dev": "dev", "aws-prod": "prod"}.get(request.param,
                                   request.param.replace("azure-", "az_").replace("gcp-", "gcp_")))  # fmt: skip


def test_every_cloud_outputs_the_webhook_url_on_the_site(stack: BuiltStack):
    assert stack.outputs["paymentsWebhookUrl"] == stack.outputs["siteUrl"] + WEBHOOK_PATH


def _csp(stack: BuiltStack) -> str:
    cloud = stack.config["cloud"]
    if cloud == "aws":
        policy = stack.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs
        return policy["securityHeadersConfig"]["contentSecurityPolicy"]["contentSecurityPolicy"]
    if cloud == "azure":
        rule = stack.one(AZ + "cdn:Rule", "rule-security-headers").inputs
        (csp,) = [a["parameters"]["value"] for a in rule["actions"]
                  if a["parameters"]["headerName"] == "Content-Security-Policy"]  # fmt: skip
        return str(csp)
    headers = stack.one(G + "compute/backendService:BackendService", "backend-site").inputs["customResponseHeaders"]
    (csp,) = [h.split(": ", 1)[1] for h in headers if h.startswith("Content-Security-Policy: ")]
    return str(csp)


def test_the_csp_admits_stripe_js_only_on_a_stack_that_takes_cards(stack: BuiltStack):
    directives = dict(d.strip().split(" ", 1) for d in _csp(stack).split(";"))
    if _takes_cards(stack):
        assert directives["script-src"] == "'self' https://js.stripe.com", directives
        assert directives["frame-src"] == "https://js.stripe.com https://hooks.stripe.com", directives
        assert directives["connect-src"].endswith(" https://api.stripe.com"), directives
    else:
        assert not any(host in _csp(stack) for host in STRIPE_HOSTS), directives
        assert directives["frame-src"] == "'none'"


# -- AWS ---------------------------------------------------------------------------------------


def _parameter_arn(stack: BuiltStack, name: str) -> str:
    return f"arn:aws:ssm:{stack.config['region']}:{ACCOUNT}:parameter/shop/{stack.stack}/{name}"


def test_aws_keeps_the_keys_in_secure_parameters_and_tells_only_orders_their_names(dev: BuiltStack):
    key = dev.one("aws:kms/key:Key", "stack-key").outputs["arn"]
    for name in dm.PAYMENT_SECRETS:
        parameter = dev.one("aws:ssm/parameter:Parameter", name)
        assert parameter.inputs["type"] == "SecureString" and parameter.inputs["keyId"] == key, name
        assert parameter.inputs["name"] == f"/shop/dev/{name}"
        assert parameter.outputs["arn"] == _parameter_arn(dev, name)
    names = {s: f"/shop/dev/{n}" for n, s in dm.AwsSettingNames.PAYMENT_PARAMETERS.items()}
    # the parameters' versions: a new key changes the function, so `pulumi up` replaces its instances
    versions = ".".join(
        str(dev.one("aws:ssm/parameter:Parameter", n).outputs["version"]) for n in sorted(dm.PAYMENT_SECRETS)
    )
    names[dm.AwsSettingNames.STRIPE_KEYS_VERSION] = versions
    for fn in dev.of_type("aws:lambda/function:Function"):
        env = fn.inputs["environment"]["variables"]
        told = {k: env[k] for k in names if k in env}
        assert told == (names if fn.name == "orders" else {}), fn.name
    _no_secret_in(dev, "aws:lambda/function:Function")


def test_aws_orders_may_read_and_decrypt_exactly_those_two_parameters(dev: BuiltStack, prod: BuiltStack):
    arns = [_parameter_arn(dev, n) for n in dm.PAYMENT_SECRETS]
    key = dev.one("aws:kms/key:Key", "stack-key").outputs["arn"]
    for service in dm.SERVICES:
        statements = dev.one("aws:iam/rolePolicy:RolePolicy", f"{service.name}-grants").policy()["Statement"]
        payments = [st for st in statements if st["Sid"].startswith("PaymentsRead")]
        if service.name != "orders":
            assert payments == [], service.name
            continue
        assert payments == [
            {"Sid": "PaymentsReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": arns},
            {"Sid": "PaymentsReadDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key],
             "Condition": {"StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com",
                                            "kms:EncryptionContext:PARAMETER_ARN": arns}}},
        ]  # fmt: skip
    # a stack that takes no cards has no parameters and no grant
    assert not [p for p in prod.of_type("aws:ssm/parameter:Parameter") if p.name in dm.PAYMENT_SECRETS]
    orders = prod.one("aws:iam/rolePolicy:RolePolicy", "orders-grants").policy()["Statement"]
    assert not [st for st in orders if st["Sid"].startswith("PaymentsRead")]


# -- Azure -------------------------------------------------------------------------------------


def _settings(app) -> dict[str, str]:
    return {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}


def test_azure_keeps_the_keys_in_key_vault_and_orders_reads_them_by_reference(az_prod: BuiltStack):
    vault = az_prod.one(AZ + "keyvault:Vault").outputs["properties"]["vaultUri"]
    secrets = {s.inputs["secretName"]: s for s in az_prod.of_type(AZ + "keyvault:Secret")}
    refs = {}
    for name in dm.PAYMENT_SECRETS:
        assert f"shop-prod-{name}" in secrets, sorted(secrets)
        versioned = secrets[f"shop-prod-{name}"].outputs["properties"]["value"]["secretUriWithVersion"]
        assert versioned.startswith(f"{vault}secrets/shop-prod-{name}/"), versioned
        # the version the stack wrote: a new key changes the setting, and `pulumi up` restarts the app
        refs[dm.PaymentSettingNames.BY_SECRET[name]] = f"@Microsoft.KeyVault(SecretUri={versioned})"
    for app in az_prod.of_type(AZ + "web:WebApp"):
        settings = _settings(app)
        told = {k: settings[k] for k in refs if k in settings}
        assert told == (refs if app.name == "fn-orders" else {}), app.name
    _no_secret_in(az_prod, AZ + "web:WebApp")


def test_azure_only_the_orders_identity_may_read_the_stripe_secrets(az_dev: BuiltStack, az_prod: BuiltStack):
    principals = {r.outputs["principalId"]: r.name.removeprefix("id-")
                  for r in az_prod.of_type(AZ + "managedidentity:UserAssignedIdentity")}  # fmt: skip
    secret_paths = {f"/vaults/{s.inputs['vaultName']}/secrets/{s.inputs['secretName']}"
                    for s in az_prod.of_type(AZ + "keyvault:Secret")
                    if s.inputs["secretName"].endswith(dm.PAYMENT_SECRETS)}  # fmt: skip
    assert len(secret_paths) == 2
    on_stripe = [r for r in az_prod.of_type(AZ + "authorization:RoleAssignment")
                 if r.inputs["scope"].endswith(tuple(secret_paths))]  # fmt: skip
    assert sorted((principals.get(r.inputs["principalId"]), r.inputs["roleDefinitionId"].rsplit("/", 1)[-1])
                  for r in on_stripe) == [("orders", azure_iam.KEY_VAULT_SECRETS_USER)] * 2  # fmt: skip
    assert {"/vaults/" + r.inputs["scope"].split("/vaults/", 1)[1] for r in on_stripe} == secret_paths, (
        "one assignment per secret, on the secret itself (never the vault)"
    )
    # a stack that takes no cards has neither the secrets nor a grant on them
    assert not [
        s for s in az_dev.of_type(AZ + "keyvault:Secret") if s.inputs["secretName"].endswith(dm.PAYMENT_SECRETS)
    ]
    assert not [r for r in az_dev.of_type(AZ + "authorization:RoleAssignment") if "stripe" in r.name]


# -- GCP ---------------------------------------------------------------------------------------


def test_gcp_keeps_the_keys_in_secret_manager_mounted_only_in_orders(gcp_prod: BuiltStack, gcp_dev: BuiltStack):
    keys = {r["customerManagedEncryption"]["kmsKeyName"] for s in gcp_prod.of_type(G + "secretmanager/secret:Secret")
            for r in s.inputs["replication"]["userManaged"]["replicas"]}  # fmt: skip
    assert len(keys) == 1 and "/cryptoKeys/" in next(iter(keys)), keys
    (key,) = keys
    secrets, written = {}, {}
    for name in dm.PAYMENT_SECRETS:
        secret = gcp_prod.one(G + "secretmanager/secret:Secret", f"secret-{name}")
        (replica,) = secret.inputs["replication"]["userManaged"]["replicas"]
        assert replica["customerManagedEncryption"]["kmsKeyName"] == key, "CMEK, like the other secrets"
        secrets[dm.PaymentSettingNames.BY_SECRET[name]] = secret.inputs["secretId"]
        written[dm.PaymentSettingNames.BY_SECRET[name]] = gcp_prod.one(
            G + "secretmanager/secretVersion:SecretVersion", f"secret-{name}-v"
        ).outputs["version"]
    for fn in gcp_prod.of_type(G + "cloudfunctionsv2/function:Function"):
        svc = fn.inputs["serviceConfig"]
        mounted = {s["key"]: s["secret"] for s in svc.get("secretEnvironmentVariables") or [] if s["key"] in secrets}
        assert mounted == (secrets if fn.name == "fn-orders" else {}), fn.name
        pinned = {s["key"]: s["version"] for s in svc.get("secretEnvironmentVariables") or [] if s["key"] in secrets}
        # the version the stack wrote, never "latest": a new key changes the function, and
        # `pulumi up` rolls out instances that resolve it
        assert pinned == {k: written[k] for k in pinned}, (fn.name, pinned)
        assert not set(svc.get("environmentVariables") or {}) & set(secrets), "never a plain variable"
    _no_secret_in(gcp_prod, G + "cloudfunctionsv2/function:Function")
    readers = [r for r in gcp_prod.of_type(G + "secretmanager/secretIamMember:SecretIamMember")
               if r.inputs["secretId"] in secrets.values()]  # fmt: skip
    orders = gcp_prod.one(G + "serviceaccount/account:Account", "sa-orders").outputs["email"]
    assert sorted((r.inputs["member"], r.inputs["role"], r.inputs["secretId"]) for r in readers) == sorted(
        (f"serviceAccount:{orders}", gcp_iam.SECRET_ACCESSOR, s) for s in secrets.values()
    )
    assert not [s for s in gcp_dev.of_type(G + "secretmanager/secret:Secret") if s.name.endswith(dm.PAYMENT_SECRETS)]


def _config_json(stack: BuiltStack) -> dict[str, str]:
    """The storefront's generated config.json, as each cloud uploads it."""
    cloud = stack.config["cloud"]
    if cloud == "aws":
        (obj,) = [o for o in stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if o.inputs["key"] == "config.json"]
        return json.loads(obj.inputs["content"])
    if cloud == "azure":
        (blob,) = [b for b in stack.of_type(AZ + "storage:Blob") if b.inputs.get("blobName") == "config.json"]
        source = blob.inputs["source"]
        return json.loads(source.text if hasattr(source, "text") else source["text"])
    (obj,) = [o for o in stack.of_type(G + "storage/bucketObject:BucketObject") if o.inputs["name"] == "config.json"]
    content = obj.inputs["content"]
    return json.loads(content["value"] if isinstance(content, dict) else content)


def test_the_storefront_learns_the_publishable_key_only_on_a_stack_that_takes_cards(stack: BuiltStack):
    config = _config_json(stack)
    if _takes_cards(stack):
        assert config["stripePublishableKey"] == STRIPE_CONFIG["stripePublishableKey"]
    else:
        assert "stripePublishableKey" not in config, config
    assert not any(v in json.dumps(config) for v in SECRET_VALUES), "never a secret key in the browser's config"
