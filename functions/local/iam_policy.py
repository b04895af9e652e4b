"""Each function runs locally under its own IAM policy, so a missing grant fails here too.

Deployed, a call a function's role does not allow fails with AccessDenied. Locally every
function shares one process and one set of credentials, and moto allows everything. So the
local stack generates each function's policy with the deploy's own code
(``providers.aws.iam.function_policy`` over the local resources' ARNs), and a botocore hook
on every SDK client (``functions.adapters.aws_clients.add_hook``) turns each call into the
IAM requests AWS would authorise (``calls_of``) and evaluates them (``allowed``): a denied
call raises AccessDeniedException before it is sent. Which function is calling comes from
``aws_clients.acting_as``, set by the Lambda entrypoints; calls outside any invocation (the
stack's own set-up, the gateway's S3 stand-in) are not checked.

The same ``calls_of`` and ``allowed`` prove the deployed policies exact in
tests/infra/test_least_privilege_proof.py.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from botocore.model import OperationModel

from functions.adapters import aws_clients
from functions.shop import datamodel as dm
from providers.aws import iam

HOOK_EVENT = "before-parameter-build"  # emitted for API calls and pre-signed URLs alike
LEADING_KEYS_KEY = "dynamodb:LeadingKeys"
LOCAL_ACCOUNT = "123456789012"  # moto's account


@dataclass(frozen=True)
class Call:
    """One IAM authorisation a request needs: an action on a resource, with its condition keys."""

    function: str
    action: str  # "dynamodb:Query"
    resource: str  # ARN
    leading_keys: tuple[str, ...] = ()  # dynamodb:LeadingKeys
    context: tuple[tuple[str, str], ...] = ()  # single-valued condition keys, e.g. ses:FromAddress

    def keys(self) -> dict[str, list[str]]:
        out = {k: [v] for k, v in self.context}
        if self.leading_keys:
            out[LEADING_KEYS_KEY] = list(self.leading_keys)
        return out


# ----------------------------------------------------------------------------- requests -> calls


@dataclass(frozen=True)
class Where:
    """How to name resources in ARNs: the region and account, and the tables' key schemas."""

    region: str
    account: str
    tables: Mapping[str, dm.TableSpec] = field(default_factory=dict)  # table name -> spec

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    @property
    def key_arn(self) -> str:
        """The stack key SecureString parameters are encrypted with."""
        return self.arn("kms", "key/local")


def _is_unauthenticated(model: OperationModel) -> bool:
    """Cognito's client APIs (SignUp, InitiateAuth, GetUser...) are not signed: no IAM."""
    return model.auth_type == "none" or "smithy.api#noAuth" in (getattr(model, "auth", None) or [])


def _partition_value(value: Any) -> str:
    if isinstance(value, dict):
        return str(next(iter(value.values())))
    return str(value)


def _query_key(params: Mapping[str, Any], key_name: str) -> list[str]:
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        if names.get(name, name) == key_name and placeholder in values:
            return [_partition_value(values[placeholder])]
    return []


def _dynamodb(function: str, op: str, params: Mapping[str, Any], where: Where) -> list[Call]:
    def table_call(action: str, table: str, keys: Iterable[str], index: str | None = None) -> Call:
        resource = where.arn("dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))
        return Call(function, f"dynamodb:{action}", resource, tuple(dict.fromkeys(keys)))

    def pk(table: str, index: str | None = None) -> str:
        spec = where.tables.get(table)
        if spec is None:
            return ""
        if index:
            return next((i.partition_key for i in spec.indexes if i.name == index), "")
        return spec.partition_key

    if op in ("GetItem", "DeleteItem", "UpdateItem"):
        table = params["TableName"]
        return [table_call(op, table, [_partition_value(params["Key"].get(pk(table), ""))])]
    if op == "PutItem":
        table = params["TableName"]
        return [table_call(op, table, [_partition_value(params["Item"].get(pk(table), ""))])]
    if op == "Query":
        table, index = params["TableName"], params.get("IndexName")
        return [table_call(op, table, _query_key(params, pk(table, index)), index)]
    if op == "BatchGetItem":
        return [
            table_call(op, table, [_partition_value(k.get(pk(table), "")) for k in req["Keys"]])
            for table, req in params["RequestItems"].items()
        ]
    if op == "BatchWriteItem":
        calls = []
        for table, requests in params["RequestItems"].items():
            keys = [
                _partition_value(
                    (r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key"))[pk(table)]
                )
                for r in requests
            ]
            calls.append(table_call(op, table, keys))
        return calls
    if op == "TransactWriteItems":
        # Authorised per item through the matching single-item action.
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        calls = []
        for entry in params["TransactItems"]:
            kind, item = next(iter(entry.items()))
            table = item["TableName"]
            key = item["Item"] if kind == "Put" else item["Key"]
            calls.append(table_call(actions[kind], table, [_partition_value(key.get(pk(table), ""))]))
        return calls
    tables = [params["TableName"]] if "TableName" in params else []
    return [table_call(op, t, []) for t in tables] or [Call(function, f"dynamodb:{op}", "*")]


def _queue_arn(url: str, where: Where) -> str:
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{where.region}:{account}:{name}"


# SNS mobile push: the ARN each call is authorised on (the platform application, an endpoint).
_SNS_PUSH_TARGETS = {
    "CreatePlatformEndpoint": "PlatformApplicationArn",
    "Publish": "TargetArn",
    "DeleteEndpoint": "EndpointArn",
}


def calls_of(function: str, model: OperationModel, params: Mapping[str, Any], where: Where) -> list[Call]:
    """The IAM requests one SDK call needs (none for unauthenticated APIs). An operation this
    module does not know is returned on Resource "*", which no function policy allows."""
    if _is_unauthenticated(model):
        return []
    prefix, op = model.service_model.signing_name, model.name
    action = f"{prefix}:{op}"
    if prefix == "dynamodb":
        return _dynamodb(function, op, params, where)
    if prefix == "sns" and "TopicArn" in params:
        return [Call(function, action, params["TopicArn"])]
    if prefix == "sns" and op in _SNS_PUSH_TARGETS and _SNS_PUSH_TARGETS[op] in params:
        return [Call(function, action, params[_SNS_PUSH_TARGETS[op]])]
    if prefix == "sqs" and "QueueUrl" in params:
        return [Call(function, action, _queue_arn(params["QueueUrl"], where))]
    if prefix == "ses" and op in ("SendEmail", "SendRawEmail"):
        source = params.get("Source", "")
        address = re.sub(r"^.*<([^>]+)>\s*$", r"\1", source)
        context = (("ses:FromAddress", address),)
        calls = [Call(function, action, where.arn("ses", f"identity/{address}"), context=context)]
        if params.get("ConfigurationSetName"):
            resource = where.arn("ses", f"configuration-set/{params['ConfigurationSetName']}")
            calls.append(Call(function, action, resource, context=context))
        return calls
    if prefix == "cognito-idp" and "UserPoolId" in params:
        return [Call(function, action, where.arn("cognito-idp", f"userpool/{params['UserPoolId']}"))]
    if prefix == "ssm" and op == "GetParameter":
        return _secure_parameter(function, params, where)
    if prefix == "s3" and "Bucket" in params:
        return [
            Call(
                function, action, f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
            )
        ]
    return [Call(function, action, "*")]


def parameter_arn(name: str, where: Where) -> str:
    return where.arn("ssm", "parameter" + (name if name.startswith("/") else f"/{name}"))


def _secure_parameter(function: str, params: Mapping[str, Any], where: Where) -> list[Call]:
    """ssm:GetParameter on the parameter; decrypted, also the kms:Decrypt SSM makes with the
    caller's credentials, through SSM and naming the parameter in the encryption context."""
    arn = parameter_arn(params["Name"], where)
    calls = [Call(function, "ssm:GetParameter", arn)]
    if params.get("WithDecryption"):
        context = (
            ("kms:ViaService", f"ssm.{where.region}.amazonaws.com"),
            (iam.PARAMETER_ENCRYPTION_CONTEXT, arn),
        )
        calls.append(Call(function, "kms:Decrypt", where.key_arn, context=context))
    return calls


# ----------------------------------------------------------------------------- evaluation


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def like(pattern: str, value: str) -> bool:
    """IAM's StringLike / ARN matching: * any run of characters, ? one character."""
    return _pattern(pattern).fullmatch(value) is not None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _matches(operator: str, value: str, wanted: list[str]) -> bool:
    if operator == "StringEquals":
        return value in wanted
    if operator == "StringLike":
        return any(like(w, value) for w in wanted)
    raise ValueError(f"condition operator {operator!r} is not evaluated here: extend iam_policy._matches")


def _condition_holds(operator: str, key: str, wanted: list[str], call: Call) -> bool:
    values = call.keys().get(key)
    if operator.startswith("ForAllValues:"):  # every value matches (true for none: IAM's rule)
        return all(_matches(operator.split(":", 1)[1], v, wanted) for v in values or [])
    if values is None or len(values) != 1:
        return False  # a single-valued operator on a missing or multi-valued key
    return _matches(operator, values[0], wanted)


def statement_allows(st: Mapping[str, Any], call: Call) -> bool:
    if st.get("Effect") != "Allow":
        return False
    if not any(like(a.lower(), call.action.lower()) for a in _list(st.get("Action", []))):
        return False
    if not any(like(r, call.resource) for r in _list(st.get("Resource", []))):
        return False
    for operator, keys in (st.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, [str(w) for w in _list(wanted)], call):
                return False
    return True


def allowed(policy: Mapping[str, Any], call: Call) -> bool:
    """Whether an identity policy of Allow statements allows the call (no Deny statements here)."""
    return any(statement_allows(st, call) for st in policy["Statement"])


# ----------------------------------------------------------------------------- the local stack


def local_policies(names: Mapping[str, str], sender: str, where: Where) -> dict[str, dict]:
    """Every function's policy over one local stack's resources, from the deploy's own code."""
    arns = iam.GrantArns(
        table_arn=where.arn("dynamodb", f"table/{names['table']}"),
        topic_arn=names["topic"],
        queue_arn=_queue_arn(names["queue"], where),
        email_identity_arn=where.arn("ses", f"identity/{sender}"),
        configuration_set_arn=None,
        sender_email=sender,
        user_pool_arn=where.arn("cognito-idp", f"userpool/{names['pool']}"),
        bucket_arn=f"arn:aws:s3:::{names['bucket']}",
        media_prefix=dm.MEDIA_PREFIX,
        key_arn=where.key_arn,
        push_application_arn=names.get("push_application") or None,
        # Stripe's keys' parameters, by datamodel.PAYMENT_SECRETS name, when the stack has them
        payment_parameter_arns=tuple(parameter_arn(names[n], where) for n in dm.PAYMENT_SECRETS if names.get(n)),
    )
    return {
        s.name: iam.function_policy(
            s.grants,
            arns,
            iam.RuntimeArns(
                where.arn("logs", f"log-group:/aws/lambda/shop-local-{s.name}"), where.region, where.account
            ),
        )
        for s in dm.SERVICES
    }


class Enforcer:
    """The hook: every call of a function must be allowed by one of its policies (one per
    running stack: stacks sharing the process share the SDK clients)."""

    def __init__(self) -> None:
        self.policies: dict[int, tuple[Where, dict[str, dict]]] = {}
        self.lock = threading.Lock()

    def __call__(
        self, params: Mapping[str, Any], model: OperationModel, context: Mapping[str, Any] | None = None, **_: Any
    ) -> None:
        function = aws_clients.current_function()
        if function is None:
            return
        with self.lock:
            stacks = list(self.policies.values())
        for where, policies in stacks:
            calls = calls_of(function, model, params, where)
            policy = policies.get(function)
            if policy is not None and all(allowed(policy, c) for c in calls):
                return
        denied = [c for where, _ in stacks for c in calls_of(function, model, params, where)]
        what = ", ".join(f"{c.action} on {c.resource}" + (f" keys {list(c.leading_keys)}" if c.leading_keys else "")
                         for c in denied[:3])  # fmt: skip
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": f"local IAM: the {function!r} function's role "
                    f"does not allow {what} (providers/aws/iam.py, datamodel.SERVICES grants)",
                }
            },
            model.name,
        )


_enforcer = Enforcer()


def enforce(stack_id: int, names: Mapping[str, str], sender: str, where: Where) -> None:
    """Check every function call against the policies of this stack's resources too."""
    policies = local_policies(names, sender, where)
    with _enforcer.lock:
        first = not _enforcer.policies
        _enforcer.policies[stack_id] = (where, policies)
    if first:
        aws_clients.add_hook(HOOK_EVENT, _enforcer)


def release(stack_id: int) -> None:
    with _enforcer.lock:
        _enforcer.policies.pop(stack_id, None)
        last = not _enforcer.policies
    if last:
        aws_clients.remove_hook(HOOK_EVENT, _enforcer)
