"""The documented commands and references agree with the program: regions passed explicitly,
arguments present, one reference for configuration and outputs, costs naming what is created."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.config import CONFIG_KEYS
from providers.azure.settings import AzureSettings
from providers.gcp.env import REQUIRED_APIS
from providers.gcp.settings import GcpSettings

from .conftest import BuiltStack

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
README = (ROOT / "README.md").read_text()


def _commands(prefix: str) -> list[tuple[str, str]]:
    """(file, command) for every shell line starting with `prefix`, continuation lines joined."""
    found = []
    for path in DOCS:
        joined = re.sub(r"\\\n\s*", " ", path.read_text())
        for line in joined.splitlines():
            text = line.strip().lstrip("`(").strip()
            for part in re.split(r"&&|;|\|", text):
                part = part.strip().lstrip("`(").strip()
                if part.startswith(prefix):
                    found.append((path.name, part))
    return found


REGIONAL_AWS = ("aws sesv2", "aws ses ", "aws cognito-idp", "aws service-quotas", "aws dynamodb", "aws kms")


@pytest.mark.parametrize("prefix", REGIONAL_AWS)
def test_regional_aws_commands_pass_the_stack_region(prefix: str):
    # The program's explicit providers ignore the profile's region; these commands would not.
    for name, command in _commands(prefix):
        assert re.search(r"--region \"?\$", command), f'{name}: {command!r} lacks --region "$REGION"'


@pytest.mark.parametrize("prefix", ["aws ", "gcloud "])
def test_no_command_hard_codes_a_region(prefix: str):
    for name, command in _commands(prefix):
        match = re.search(r"--region[ =](\S+)", command)
        assert match is None or match.group(1).lstrip('"').startswith("$"), f"{name}: {command!r}"


def test_azure_commands_have_their_arguments():
    registers = _commands("az provider register")
    assert registers and all("--wait" in c for _, c in registers), registers
    purges = _commands("az apim deletedservice purge")
    assert purges and all("--service-name" in c and "--location" in c for _, c in purges), purges
    custom_domains = _commands("az afd custom-domain")
    assert custom_domains, "the custom-domain validation command is documented"
    for _, command in custom_domains:
        assert "--resource-group" in command and "--profile-name" in command, command
    for _, command in _commands("az functionapp restart"):
        assert "--resource-group" in command and "--name" in command, command
    assert _commands("az functionapp restart"), "restarting the apps is a command, not a sentence"


def test_stack_rm_keeps_the_checked_in_stack_files():
    removals = _commands("pulumi stack rm")
    assert removals
    for name, command in removals:
        assert "--preserve-config" in command, f"{name}: {command!r} would delete Pulumi.<stack>.yaml"


def test_the_gcp_guide_enables_exactly_the_apis_the_program_does():
    text = (ROOT / "docs" / "deploy-gcp.md").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    [command] = [line for line in joined.splitlines() if "gcloud services enable --project" in line]
    assert set(re.findall(r"[a-z]+\.googleapis\.com", command)) == set(REQUIRED_APIS)
    # The two the program needs before it can enable anything, in the login steps.
    assert "gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com" in text
    login = text[text.index("### 2. Tools and login") :]
    order = ["gcloud auth application-default login", "gcloud auth application-default set-quota-project"]
    assert login.index(order[0]) < login.index(order[1])


def test_configuration_md_is_the_one_reference():
    for key in CONFIG_KEYS:
        assert re.search(rf"^\| [^|]*`{key}`", CONFIGURATION, re.M), f"shop:{key} has no row in docs/configuration.md"
    for model, section in ((AzureSettings, "shop:azure"), (GcpSettings, "shop:gcp")):
        for name, field in model.model_fields.items():
            key = field.alias or name
            assert f"| `{key}` |" in CONFIGURATION, f"{section}.{key} undocumented"
    assert "Reserved for" not in CONFIGURATION
    # The README links instead of repeating the tables.
    assert "docs/configuration.md" in README
    assert "| `azCount` |" not in README and "| `tenantId` |" not in README and "| `enableApis` |" not in README


def test_every_output_is_documented(dev: BuiltStack, az_dev: BuiltStack, gcp_dev: BuiltStack):
    outputs = set(dev.outputs) | set(az_dev.outputs) | set(gcp_dev.outputs)
    missing = [o for o in sorted(outputs) if f"`{o}`" not in CONFIGURATION]
    assert not missing, f"docs/configuration.md does not describe outputs {missing}"


def test_the_cost_table_names_the_fixed_price_resources_created(az_dev: BuiltStack, az_prod: BuiltStack, gcp_prod):
    cost = README[README.index("## Cost") : README.index("## Troubleshooting")]
    sku = {r.type.split(":")[1]: r.inputs.get("sku", {}).get("name") for r in az_prod.resources if "sku" in r.inputs}
    assert sku["apimanagement"] == "Consumption" and "API Management Consumption (no base fee" in cost
    assert sku["servicebus"] == "Premium" and "Service Bus Premium" in cost  # private endpoints need Premium
    assert sku["notificationhubs"] == "Standard" and "Notification Hubs Standard" in cost
    assert sku["cdn"] == "Premium_AzureFrontDoor" and "Front Door Premium" in cost
    assert az_dev.of_type("azure-native:network:NatGateway") and "NAT gateway" in cost.split("| Azure |")[1]
    [connector] = gcp_prod.of_type("gcp:vpcaccess/connector:Connector")
    assert connector.inputs["machineType"] in cost, "the prod connector's machine type is priced"
