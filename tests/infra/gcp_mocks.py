"""Pulumi mocks answering like the Google Cloud APIs, and the GCP stack builder.

Same recording as conftest.ShopMocks; outputs are shaped as GCP returns them: resource
names (projects/<p>/...), service-account e-mails, run.app and gateway.dev host names.
Names Pulumi would auto-generate (the provider's job, absent under mocks) get a suffix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi

from .conftest import STRIPE_CONFIG, BuiltStack, Resource, run_program

PROJECT_ID = "shop-dev-123456"
PROJECT_NUMBER = "123456789012"
LB_IP = "34.120.7.9"

GCP_DEV: dict[str, Any] = {
    "cloud": "gcp",
    "region": "europe-west1",
    "environment": "dev",
    "alertEmail": "oncall@example.com",
    "senderEmail": "shop@example.com",
    "owner": "platform-team",
    "gcp": {"project": PROJECT_ID},
}
GCP_PROD: dict[str, Any] = {
    **GCP_DEV,
    "region": "europe-west3",  # API Gateway does not run here: the gateway region is set apart
    "environment": "prod",
    "domainName": "shop.example.com",
    "azCount": 3,
    "natMode": "perAz",
    "functionMemoryMb": 1024,
    "logRetentionDays": 90,
    "wafRateLimit": 1000,
    "reservedConcurrency": 50,
    "tags": {"costCenter": "shop-42"},
    **STRIPE_CONFIG,  # prod takes cards, dev does not
    "gcp": {
        "project": "shop-prod-654321",
        "apiGatewayRegion": "europe-west1",
        "dnsManagedZone": "example-com",
        "emailProvider": "smtp",
        "pushNotifications": True,
    },
    # a Pulumi secret in a real stack (`pulumi config set --secret shop:smtpUrl ...`)
    "smtpUrl": "smtps://relay:pw@smtp.example.com:465",
}

AGENTS = {
    "pubsub.googleapis.com": "gcp-sa-pubsub",
    "secretmanager.googleapis.com": "gcp-sa-secretmanager",
    "firestore.googleapis.com": "gcp-sa-firestore",
    "parametermanager.googleapis.com": "gcp-sa-pm",
    "artifactregistry.googleapis.com": "gcp-sa-artifactregistry",
}
LOGGING_CMEK_ACCOUNT = f"cmek-p{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com"


def _h(*parts: str, n: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


class GcpMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str) -> None:
        self.region = region
        self.resources: list[Resource] = []
        self.invokes: list[str] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        self.invokes.append(args.token)
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "member": f"serviceAccount:{email}", "project": args.args.get("project")}
        if args.token == "gcp:organizations/getProject:getProject":
            return {"number": PROJECT_NUMBER, "projectId": args.args.get("projectId")}
        if args.token == "gcp:logging/getProjectCmekSettings:getProjectCmekSettings":
            project = args.args.get("project")
            return {"id": f"projects/{project}/cmekSettings", "name": f"projects/{project}/cmekSettings",
                    "project": project, "serviceAccountId": LOGGING_CMEK_ACCOUNT}  # fmt: skip
        raise NotImplementedError(f"the GCP mocks do not answer invoke {args.token}")

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        p = inputs.get("project", PROJECT_ID)
        region = inputs.get("region") or inputs.get("location") or self.region
        physical = inputs.get("name") or f"{name}-{_h(typ, name)}"
        out: dict[str, Any] = {"name": physical}
        rid = f"projects/{p}/{typ.split(':')[-1].lower()}s/{physical}"
        match typ.removeprefix("gcp:"):
            case "kms/keyRing:KeyRing":
                rid = f"projects/{p}/locations/{inputs['location']}/keyRings/{physical}"
            case "kms/cryptoKey:CryptoKey":
                rid = f"{inputs['keyRing']}/cryptoKeys/{physical}"
            case "projects/serviceIdentity:ServiceIdentity":
                email = f"service-{PROJECT_NUMBER}@{AGENTS[inputs['service']]}.iam.gserviceaccount.com"
                out.update(email=email, member=f"serviceAccount:{email}")
            case "compute/network:Network":
                rid = f"projects/{p}/global/networks/{physical}"
                out["selfLink"] = f"https://www.googleapis.com/compute/v1/{rid}"
            case "compute/subnetwork:Subnetwork":
                rid = f"projects/{p}/regions/{region}/subnetworks/{physical}"
            case "compute/address:Address":
                rid = f"projects/{p}/regions/{region}/addresses/{physical}"
                out.update(
                    address=f"35.1.{len(self.resources) % 250}.1",
                    selfLink=f"https://www.googleapis.com/compute/v1/{rid}",
                )
            case "compute/globalAddress:GlobalAddress":
                rid = f"projects/{p}/global/addresses/{physical}"
                out["address"] = LB_IP
            case "artifactregistry/repository:Repository":
                rid = f"projects/{p}/locations/{region}/repositories/{inputs['repositoryId']}"
                out["name"] = rid
            case "vpcaccess/connector:Connector":
                rid = f"projects/{p}/locations/{region}/connectors/{physical}"
            case "firestore/database:Database":
                rid = f"projects/{p}/databases/{physical}"
            case "pubsub/topic:Topic":
                rid = f"projects/{p}/topics/{physical}"
            case "pubsub/subscription:Subscription":
                rid = f"projects/{p}/subscriptions/{physical}"
            case "secretmanager/secret:Secret":
                rid = f"projects/{p}/secrets/{inputs['secretId']}"
                out["name"] = f"projects/{PROJECT_NUMBER}/secrets/{inputs['secretId']}"
            case "secretmanager/secretVersion:SecretVersion":
                rid = f"{inputs['secret']}/versions/1"
                out.update(name=rid, version="1")
            case "parametermanager/regionalParameter:RegionalParameter":
                rid = f"projects/{p}/locations/{inputs['location']}/parameters/{inputs['parameterId']}"
                out["name"] = rid
            case "projects/iAMCustomRole:IAMCustomRole":
                out["name"] = rid = f"projects/{p}/roles/{inputs['roleId']}"
            case "projects/apiKey:ApiKey":
                out.update(keyString="AIzaSy" + _h("key", name, n=33), uid=_h("uid", name, n=36))
                rid = f"projects/{p}/locations/global/keys/{physical}"
            case "storage/bucket:Bucket":
                out.update(url=f"gs://{physical}", selfLink=f"https://www.googleapis.com/storage/v1/b/{physical}")
                rid = physical
            case "storage/hmacKey:HmacKey":
                out.update(accessId="GOOG1E" + _h("hmac", name, n=20).upper(), secret=_h("hmac-secret", name, n=40))
            case "storage/bucketObject:BucketObject":
                rid = f"{inputs['bucket']}-{physical}"
            case "serviceaccount/account:Account":
                email = f"{inputs['accountId']}@{p}.iam.gserviceaccount.com"
                rid = f"projects/{p}/serviceAccounts/{email}"
                out.update(email=email, name=rid, member=f"serviceAccount:{email}", uniqueId=_h("sa", name, n=21))
            case "cloudfunctionsv2/function:Function":
                rid = f"projects/{p}/locations/{inputs['location']}/functions/{physical}"
                out["url"] = f"https://{inputs['location']}-{p}.cloudfunctions.net/{physical}"
                out["serviceConfig"] = {**inputs.get("serviceConfig", {}), "service": f"projects/{p}/locations/{inputs['location']}/services/{physical}"}  # fmt: skip
            case "apigateway/api:Api":
                rid = f"projects/{p}/locations/global/apis/{inputs['apiId']}"
                out["managedService"] = f"{inputs['apiId']}-{_h('ms', name, n=14)}.apigateway.{p}.cloud.goog"
            case "apigateway/apiConfig:ApiConfig":
                rid = f"projects/{p}/locations/global/apis/{inputs['api']}/configs/{inputs['apiConfigIdPrefix']}{_h(name)}"
            case "apigateway/gateway:Gateway":
                rid = f"projects/{p}/locations/{inputs['region']}/gateways/{inputs['gatewayId']}"
                out["defaultHostname"] = f"{inputs['gatewayId']}-{_h('gw', n=8)}.ew.gateway.dev"
            case "logging/projectBucketConfig:ProjectBucketConfig":
                rid = f"projects/{p}/locations/{inputs['location']}/buckets/{inputs['bucketId']}"
            case "logging/projectSink:ProjectSink":
                out["writerIdentity"] = (
                    f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com"
                )
            case "monitoring/notificationChannel:NotificationChannel":
                out["name"] = rid = f"projects/{p}/notificationChannels/{int(_h(name), 16)}"
            case "monitoring/alertPolicy:AlertPolicy":
                out["name"] = rid = f"projects/{p}/alertPolicies/{int(_h(name), 16)}"
            case "monitoring/dashboard:Dashboard":
                rid = f"projects/{PROJECT_NUMBER}/dashboards/{_h(name, n=12)}"
            case _ if typ.startswith("gcp:compute/"):
                kind = typ.split(":")[-1]
                regional = "region" in inputs
                scope = f"regions/{inputs['region']}" if regional else "global"
                plural = kind[0].lower() + kind[1:]
                plural = plural[:-1] + "ies" if plural.endswith("y") else plural + "s"
                rid = f"projects/{p}/{scope}/{plural}/{physical}"
                out["selfLink"] = f"https://www.googleapis.com/compute/v1/{rid}"
        self.resources.append(Resource(typ, name, inputs, out, args.provider))
        return rid, {**inputs, **out}


def build_gcp_stack(
    config: Mapping[str, Any], stack: str = "dev", *, site_dir: Path | None = None, **build_args: Any
) -> BuiltStack:
    return run_program(GcpMocks(region=str(config.get("region"))), config, stack, site_dir, **build_args)
