"""Least privilege by value on every cloud: each identity's permissions, action by action and
resource by resource, are exactly what its grants (datamodel.SERVICES) say.

The grants themselves are proven against the calls the functions make in
test_least_privilege_proof.py (AWS, where the policy names single API actions); Azure and GCP
map the same grants onto their built-in roles.
"""

from __future__ import annotations

import pytest

from functions.local import iam_policy
from functions.local.iam_policy import Call
from functions.shop import datamodel as dm
from providers.azure import iam

from .azure_mocks import SUBSCRIPTION
from .conftest import ACCOUNT, BuiltStack

REGION = "eu-west-1"  # the dev stack's


def _list(v) -> list:
    return v if isinstance(v, list) else [v]


def _policy(stack: BuiltStack, service: str) -> dict:
    return stack.one("aws:iam/rolePolicy:RolePolicy", f"{service}-grants").policy()


def _grants(doc: dict) -> set[tuple]:
    """(action, resource, leading keys, other condition) for every statement but the runtime's."""
    out = set()
    for st in doc["Statement"]:
        if st["Sid"] in ("OwnLogs", "XRay", "VpcNetworkInterfaces", "VpcDescribe") or st["Sid"].startswith("StackKey"):
            continue
        condition = dict(st.get("Condition") or {})
        keys = tuple(condition.pop("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", ()))
        other = tuple(sorted((op, k, tuple(_list(v))) for op, kv in condition.items() for k, v in kv.items()))
        for action in _list(st["Action"]):
            for resource in _list(st["Resource"]):
                out.add((action, resource, keys, other))
    return out


def _arns(stack: BuiltStack) -> dict[str, str]:
    return {
        "T": stack.one("aws:dynamodb/table:Table").outputs["arn"],
        "topic": stack.one("aws:sns/topic:Topic", dm.ORDER_EVENTS_TOPIC).outputs["arn"],
        "queue": stack.one("aws:sqs/queue:Queue", dm.NOTIFICATIONS_QUEUE).outputs["arn"],
        "pool": stack.one("aws:cognito/userPool:UserPool").outputs["arn"],
        "identity": stack.one("aws:sesv2/emailIdentity:EmailIdentity").outputs["arn"],
        "configset": stack.one("aws:sesv2/configurationSet:ConfigurationSet").outputs["arn"],
        "bucket": stack.one("aws:s3/bucket:Bucket", "site").outputs["arn"],
        "push": stack.one("aws:sns/platformApplication:PlatformApplication").outputs["arn"],
        "key": stack.one("aws:kms/key:Key", "stack-key").outputs["arn"],
        **{name: stack.one("aws:ssm/parameter:Parameter", name).outputs["arn"] for name in dm.PAYMENT_SECRETS},
    }


def _expected(a: dict[str, str]) -> dict[str, set[tuple]]:
    t, gsi1, gsi2 = a["T"], a["T"] + "/index/GSI1", a["T"] + "/index/GSI2"
    product, category, customer, devices = ("PRODUCT#*",), ("CATEGORY",), ("USER#*",), ("DEVICES#*",)
    # arn:aws:sns:<region>:<account>:app/GCM/<name> -> its endpoints endpoint/GCM/<name>/*
    endpoints = a["push"].replace(":app/GCM/", ":endpoint/GCM/") + "/*"

    def db(actions: str, resource: str, keys: tuple) -> set[tuple]:
        return {(f"dynamodb:{x}", resource, keys, ()) for x in actions.split()}

    sender = (("StringEquals", "ses:FromAddress", ("shop@example.com",)),)
    return {
        "accounts": {  # server-side sign-in, so the client's address reaches Cognito's risk checks
            ("cognito-idp:AdminInitiateAuth", a["pool"], (), ()),
            ("cognito-idp:AdminRespondToAuthChallenge", a["pool"], (), ()),
        },
        "catalog": db("GetItem", t, product)
        | db("Query", t, category)
        | db("Query", gsi1, ("CATEGORY#*",))
        | db("Query", gsi2, ("PRODUCTS",))
        # browse by price (GSI3, GSI4) and newest (GSI5, GSI6): catalog partitions only
        | db("Query", a["T"] + "/index/GSI3", ("CATEGORY#*",))
        | db("Query", a["T"] + "/index/GSI4", ("PRODUCTS",))
        | db("Query", a["T"] + "/index/GSI5", ("CATEGORY#*",))
        | db("Query", a["T"] + "/index/GSI6", ("PRODUCTS",)),
        "cart": db("Query PutItem DeleteItem BatchWriteItem", t, customer)
        | db("BatchGetItem", t, product)
        | db("Query PutItem DeleteItem", t, devices),  # /api/me/devices
        "orders": db("GetItem Query PutItem UpdateItem DeleteItem", t, customer)
        | db("BatchGetItem UpdateItem", t, product)
        | {("sns:Publish", a["topic"], (), ())}
        # Stripe's keys: their two SecureString parameters, decrypted with the stack key only through SSM
        # and only for those parameters
        | {("ssm:GetParameter", a[name], (), ()) for name in dm.PAYMENT_SECRETS}
        | {
            (
                "kms:Decrypt",
                a["key"],
                (),
                (
                    ("StringEquals", "kms:EncryptionContext:PARAMETER_ARN", tuple(a[n] for n in dm.PAYMENT_SECRETS)),
                    ("StringEquals", "kms:ViaService", (f"ssm.{REGION}.amazonaws.com",)),
                ),
            )
        },
        "admin": db("GetItem BatchGetItem PutItem UpdateItem DeleteItem", t, product)
        | db("Query PutItem", t, category)
        | db("Query", gsi1, ("ORDER#*",))
        | db("Query", gsi2, ("STATUS#*",))
        | db("GetItem UpdateItem", t, customer)
        | {("sns:Publish", a["topic"], (), ()), ("s3:PutObject", f"{a['bucket']}/media/*", (), ())}
        | {("cognito-idp:AdminListGroupsForUser", a["pool"], (), ())}  # the admin re-check
        | {("cognito-idp:AdminGetUser", a["pool"], (), ())},  # an order's e-mail the token lacked
        "notifications": {
            ("sqs:ReceiveMessage", a["queue"], (), ()),
            ("sqs:DeleteMessage", a["queue"], (), ()),
            ("sqs:GetQueueAttributes", a["queue"], (), ()),
            ("ses:SendEmail", a["identity"], (), sender),
            ("ses:SendEmail", a["configset"], (), sender),
            ("cognito-idp:AdminGetUser", a["pool"], (), ()),
        }
        | db("GetItem PutItem DeleteItem", t, ("EVENT#*",))  # its processed-event records only
        | db("Query DeleteItem", t, devices)  # the customer's devices, refused tokens pruned
        | {  # SNS mobile push: endpoints made on this stack's platform application, used and deleted
            ("sns:CreatePlatformEndpoint", a["push"], (), ()),
            ("sns:Publish", endpoints, (), ()),
            ("sns:DeleteEndpoint", endpoints, (), ()),
        },
        # unpaid orders by status, their compare-and-set, the stock returned, OrderCancelled
        "expiry": db("Query", gsi2, ("STATUS#*",))
        | db("GetItem UpdateItem", t, customer)
        | db("BatchGetItem UpdateItem", t, product)
        | {("sns:Publish", a["topic"], (), ())},
    }


@pytest.mark.parametrize("service", [s.name for s in dm.SERVICES])
def test_each_aws_role_grants_exactly_these_actions_on_these_arns_and_keys(dev: BuiltStack, service: str):
    got = _grants(_policy(dev, service))
    want = _expected(_arns(dev))[service]
    assert got == want, f"{service}: extra {sorted(got - want)}; missing {sorted(want - got)}"


@pytest.mark.parametrize("service", [s.name for s in dm.SERVICES])
def test_what_every_aws_role_needs_to_run_is_scoped_to_its_account_and_region(any_stack: BuiltStack, service: str):
    doc = _policy(any_stack, service)
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    region = any_stack.config["region"]
    ec2 = f"arn:aws:ec2:{region}:{ACCOUNT}"
    assert by_sid["VpcNetworkInterfaces"]["Resource"] == [
        f"{ec2}:network-interface/*",
        f"{ec2}:subnet/*",
        f"{ec2}:security-group/*",
    ]
    assert by_sid["VpcDescribe"]["Action"] == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    assert by_sid["VpcDescribe"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": region}}
    # Stripe's keys are the one thing read from Parameter Store: by the function granted payments,
    # on exactly their two parameters, on a stack that takes cards
    reads = [st for st in doc["Statement"] if "ssm:GetParameter" in _list(st["Action"])]
    reads_cards = service == "orders" and bool(any_stack.config.get("stripeSecretKey"))
    parameters = [f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/shop/{any_stack.stack}/{n}" for n in dm.PAYMENT_SECRETS]
    assert [(st["Action"], st["Resource"]) for st in reads] == ([(["ssm:GetParameter"], parameters)] if reads_cards
                                                              else []), f"{service}: {reads}"  # fmt: skip
    actions = {a for st in doc["Statement"] if st not in reads for a in _list(st["Action"])}
    never = {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "dynamodb:Scan",
             "dynamodb:ConditionCheckItem", "cognito-idp:ListUsers", "ses:SendRawEmail",
             "sqs:ChangeMessageVisibility"}  # fmt: skip
    assert not actions & never, f"{service}: {sorted(actions & never)}"
    for st in doc["Statement"]:
        if st["Sid"].startswith("StackKey"):
            assert st["Condition"]["StringEquals"]["kms:ViaService"] != f"ssm.{region}.amazonaws.com", service


def test_the_public_catalog_function_reaches_catalog_items_only(dev: BuiltStack):
    doc, t = _policy(dev, "catalog"), _arns(dev)["T"]

    def may(action: str, resource: str, *keys: str) -> bool:
        return iam_policy.allowed(doc, Call("catalog", f"dynamodb:{action}", resource, keys))

    assert may("GetItem", t, "PRODUCT#p1")
    assert may("Query", t, "CATEGORY")
    assert may("Query", f"{t}/index/GSI1", "CATEGORY#books")
    assert may("Query", f"{t}/index/GSI2", "PRODUCTS")
    assert not may("GetItem", t, "USER#u-1"), "a customer's order or cart"
    assert not may("Query", t, "USER#u-1"), "a customer's orders"
    assert not may("Query", f"{t}/index/GSI1", "ORDER#o-1"), "an order by id"
    assert not may("Query", f"{t}/index/GSI2", "STATUS#PLACED"), "every placed order"
    for index in ("GSI3", "GSI5"):
        assert may("Query", f"{t}/index/{index}", "CATEGORY#books")
        assert not may("Query", f"{t}/index/{index}", "ORDER#o-1"), f"{index}: an order by id"
    for index in ("GSI4", "GSI6"):
        assert may("Query", f"{t}/index/{index}", "PRODUCTS")
        assert not may("Query", f"{t}/index/{index}", "STATUS#PLACED"), f"{index}: every placed order"
    assert not may("BatchGetItem", t, "PRODUCT#p1", "USER#u-1"), "one forbidden key in a batch"
    assert not may("Scan", t), "the whole table"
    assert not may("PutItem", t, "PRODUCT#p1")


# -- Azure -------------------------------------------------------------------------------------

AZ = "azure-native:"
T_RA = AZ + "authorization:RoleAssignment"
T_COSMOS_RA = AZ + "cosmosdb:SqlResourceSqlRoleAssignment"


@pytest.fixture(scope="module", params=["dev", "prod"])
def az(request: pytest.FixtureRequest, az_dev: BuiltStack, az_prod: BuiltStack) -> BuiltStack:
    return az_dev if request.param == "dev" else az_prod


def _azure_assignments(az: BuiltStack) -> dict[str, set[tuple[str, str]]]:
    """service -> (role id, scope) of every RBAC and Cosmos DB data-plane assignment of its app's identity."""
    principals = {r.outputs["principalId"]: r.name.removeprefix("id-")
                  for r in az.of_type(AZ + "managedidentity:UserAssignedIdentity")}  # fmt: skip
    principals = {pid: name for pid, name in principals.items() if name in dm.SERVICES_BY_NAME}
    out: dict[str, set[tuple[str, str]]] = {name: set() for name in principals.values()}
    for r in [*az.of_type(T_RA), *az.of_type(T_COSMOS_RA)]:
        if r.inputs["principalId"] in principals:
            role = r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
            out[principals[r.inputs["principalId"]]].add((role, r.inputs["scope"]))
    return out


def _azure_id(az: BuiltStack, provider_type: str, name: str) -> str:
    rg = az.one(AZ + "resources:ResourceGroup").outputs["name"]
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/{provider_type}/{name}"


def test_no_function_app_can_write_another_apps_code(az: BuiltStack):
    account = "Microsoft.Storage/storageAccounts"
    packages = _azure_id(az, account, az.one(AZ + "storage:StorageAccount", "fnpkg").outputs["name"])
    host = _azure_id(az, account, az.one(AZ + "storage:StorageAccount", "fnhost").outputs["name"])
    deploy = {
        r.name.removeprefix("deploy-"): f"{packages}/blobServices/default/containers/{r.outputs['name']}"
        for r in az.of_type(AZ + "storage:BlobContainer")
        if r.name.startswith("deploy-")
    }
    assert set(deploy) == {s.name for s in dm.SERVICES}
    for service, given in _azure_assignments(az).items():
        on_packages = {(role, scope) for role, scope in given if scope == packages or scope.startswith(packages + "/")}
        assert on_packages == {(iam.STORAGE_BLOB_DATA_CONTRIBUTOR, deploy[service])}, (
            f"{service} may write only its own deployment container: {on_packages}"
        )
        assert (iam.STORAGE_BLOB_DATA_OWNER, host) in given, f"{service}: the Functions host needs its storage"
    apps = az.of_type(AZ + "web:WebApp")
    for app in apps:
        settings = {s["name"]: s["value"] for s in app.inputs["siteConfig"]["appSettings"]}
        assert (
            settings["AzureWebJobsStorage__accountName"]
            == az.one(AZ + "storage:StorageAccount", "fnhost").outputs["name"]
        ), "host storage is not the package account"


def test_each_azure_identity_holds_only_the_roles_its_grants_derive(az: BuiltStack):
    """Every role assignment of every app's identity comes from its grants (grant_plan) or the
    platform baseline (iam.PLATFORM_PLAN); nothing else, and read-only services only read."""
    given = _azure_assignments(az)
    acs = az.one(AZ + "communication:CommunicationService").outputs["name"]
    comm = _azure_id(az, "Microsoft.Communication/communicationServices", acs)
    (email_role,) = {role for roles_ in given.values() for role, scope in roles_ if scope == comm}
    takes_cards = bool(az.config.get("stripeSecretKey"))
    for spec in dm.SERVICES:
        roles_held = sorted(role for role, _ in given[spec.name])
        derived = [
            email_role if r == "email-sender" else r
            for r, target in iam.grant_plan(spec)
            if takes_cards or target not in iam.PAYMENT_TARGETS.values()  # no cards: no Stripe secrets
        ]
        derived += [role for _, role, _ in iam.PLATFORM_PLAN]
        assert roles_held == sorted(derived), f"{spec.name}: holds {roles_held}, its grants derive {sorted(derived)}"
    assert iam.COSMOS_DATA_READER in {r for r, _ in given["catalog"]}
    assert not {r for r, _ in given["catalog"]} & {iam.COSMOS_DATA_CONTRIBUTOR, iam.SERVICE_BUS_DATA_SENDER}
    assert not any(r.startswith("0000") for r, _ in given["accounts"]), "accounts touches no database"


# -- GCP ---------------------------------------------------------------------------------------

G = "gcp:"


@pytest.fixture(scope="module", params=["dev", "prod"])
def gcp(request: pytest.FixtureRequest, gcp_dev: BuiltStack, gcp_prod: BuiltStack) -> BuiltStack:
    return gcp_dev if request.param == "dev" else gcp_prod


def test_the_build_account_writes_only_the_functions_image_repository(gcp: BuiltStack):
    build = f"serviceAccount:{gcp.one(G + 'serviceaccount/account:Account', 'sa-build').outputs['email']}"
    repo = gcp.one(G + "artifactregistry/repository:Repository", "repo-functions")
    project_roles = {r.inputs["role"] for r in gcp.of_type(G + "projects/iAMMember:IAMMember")
                     if r.inputs["member"] == build}  # fmt: skip
    assert project_roles == {"roles/logging.logWriter"}, f"project-wide roles of the build account: {project_roles}"
    (writer,) = [r for r in gcp.of_type(G + "artifactregistry/repositoryIamMember:RepositoryIamMember")
                 if r.inputs["member"] == build]  # fmt: skip
    assert writer.inputs["role"] == "roles/artifactregistry.writer"
    assert writer.inputs["repository"] == repo.outputs["name"]
    assert repo.inputs["format"] == "DOCKER"
    for fn in gcp.of_type(G + "cloudfunctionsv2/function:Function"):
        assert fn.inputs["buildConfig"]["dockerRepository"] == repo.outputs["name"], fn.name
        assert fn.inputs["buildConfig"]["serviceAccount"].endswith(build.split(":", 1)[1])
