"""deployment/main.bicep, checked offline for what can be checked without Azure.

No Bicep compiler is assumed (it is a download of its own), so the template is read as text: the
resources it must declare, the lifecycle rule that deletes state, and the app settings. The app
settings are then turned into the environment the container would get and fed to the bot's own
``Settings.from_env``: a misspelt or missing setting fails here, not at 2 a.m. in production.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.settings import APP_TYPES, Settings

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deployment" / "main.bicep"
PARAMETERS_EXAMPLE = REPO / "deployment" / "main.parameters.example.json"
SETTINGS_SOURCE = REPO / "bot" / "settings.py"

# Read by App Service itself, not by the bot.
PLATFORM_SETTINGS = {"WEBSITES_PORT"}
SECRET_SETTINGS = {"MicrosoftAppPassword", "BOT_BLOB_CONNECTION_STRING", "BOT_COSMOS_KEY", "BOT_LOG_SALT"}
TEST_GUID = "5a1c0f5e-8f3b-4c1e-9a55-0f0e2d3c4b5a"


@pytest.fixture(scope="module")
def bicep() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def code_only(text: str) -> str:
    """The template without // comments (so a comment cannot satisfy a check)."""
    return "\n".join(re.sub(r"(^|\s)//.*$", "", line) for line in text.splitlines())


def resources(bicep: str) -> dict[str, str]:
    """symbolic name -> resource type (without API version)."""
    return {
        name: kind
        for name, kind in re.findall(r"^resource (\w+) '([\w./]+)@[\w-]+'", code_only(bicep), flags=re.MULTILINE)
    }


def declarations(bicep: str) -> dict[str, str]:
    """Simple string literals of params (their defaults) and vars, for evaluating settings."""
    found = {}
    for kind, name, value in re.findall(r"^(param|var) (\w+)(?: \w+)? = '([^'$]*)'\s*$", code_only(bicep), flags=re.MULTILINE):
        found[name] = value
    return found


def params(bicep: str) -> dict[str, dict]:
    """name -> {'secure': bool, 'default': bool}; decorators are the lines right above a param."""
    out = {}
    lines = code_only(bicep).splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^param (\w+) (\w+)( = .*)?$", line)
        if not match:
            continue
        above = []
        back = index - 1
        while back >= 0 and lines[back].strip() and not re.match(r"^(param|var|resource|output) ", lines[back]):
            above.append(lines[back].strip())
            back -= 1
        out[match.group(1)] = {"secure": "@secure()" in above, "default": bool(match.group(3))}
    return out


def app_settings(bicep: str) -> list[tuple[str, str]]:
    """Every ``{ name: 'X', value: ... }`` entry: the app settings, with their value expressions."""
    return re.findall(r"\{ name: '(\w+)', value: (.+?) \}", code_only(bicep))


def evaluate(expression: str, context: dict[str, str]) -> str:
    """The value a setting gets, for the simple forms the template uses: a literal with
    ${...} interpolations, a name, or string(name). A Key Vault reference stays as written."""
    expression = expression.strip()
    call = re.fullmatch(r"string\((\w+)\)", expression)
    if call:
        return context[call.group(1)]
    if re.fullmatch(r"\w+", expression):
        return context[expression]
    assert expression.startswith("'") and expression.endswith("'"), f"unexpected setting value {expression}"
    literal = expression[1:-1]
    if literal.startswith("@Microsoft.KeyVault("):
        return literal
    return re.sub(r"\$\{(\w+)\}", lambda m: context[m.group(1)], literal)


def settings_read_by_the_bot() -> set[str]:
    source = SETTINGS_SOURCE.read_text(encoding="utf-8")
    return set(re.findall(r'(?:get|env\.get|_int\(env,)\s*\(?\s*"([A-Za-z_]+)"', source))


def container_environment(bicep: str, app_type: str) -> dict[str, str]:
    """The environment App Service would give the container, with Key Vault references resolved
    to stand-in values (the secrets themselves are not in the template)."""
    context = {
        **declarations(bicep),
        "microsoftAppType": app_type,
        "botAppId": TEST_GUID,
        "microsoftAppTenantId": TEST_GUID,
        "allowedTenants": TEST_GUID,
        "stateTtlSeconds": "14400",
        "localContactsFileName": "local-contacts.yaml",
    }
    code = code_only(bicep)
    entries = dict(app_settings(bicep))
    env = {name: evaluate(value, context) for name, value in entries.items()}
    # The two optional groups, as the template's conditions choose them.
    if app_type == "UserAssignedMSI":
        assert re.search(r"var passwordSettings = useManagedIdentity \? \[\] :", code)
        env.pop("MicrosoftAppPassword")
    return {name: ("stand-in-secret" if value.startswith("@Microsoft.KeyVault(") else value) for name, value in env.items()}


def test_declares_bot_with_teams_channel_app_host_storage_and_vault(bicep):
    kinds = set(resources(bicep).values())
    for required in (
        "Microsoft.BotService/botServices",
        "Microsoft.BotService/botServices/channels",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/managementPolicies",
        "Microsoft.KeyVault/vaults",
    ):
        assert required in kinds
    assert kinds & {"Microsoft.Web/sites", "Microsoft.App/containerApps"}, "an app host"
    code = code_only(bicep)
    assert "channelName: 'MsTeamsChannel'" in code
    assert re.search(r"endpoint: 'https://\$\{app\.properties\.defaultHostName\}/api/messages'", code)


def test_state_blobs_are_deleted_a_day_after_their_last_change(bicep):
    code = code_only(bicep)
    policy = code[code.index("Microsoft.Storage/storageAccounts/managementPolicies") :]
    policy = policy[: policy.index("\nresource ")]
    assert re.search(r"daysAfterModificationGreaterThan: 1\b", policy)
    assert "delete:" in policy and "enabled: true" in policy
    container = declarations(bicep)["stateContainer"]
    assert "prefixMatch" in policy and ("'${stateContainer}/'" in policy or f"'{container}/'" in policy)
    env = container_environment(bicep, "SingleTenant")
    assert env["BOT_BLOB_CONTAINER"] == container, "the rule covers the container the bot writes to"


def test_every_app_setting_is_one_the_bot_or_the_platform_reads(bicep):
    names = {name for name, _ in app_settings(bicep)}
    unknown = names - settings_read_by_the_bot() - PLATFORM_SETTINGS
    assert unknown == set()


def test_required_production_settings_are_set(bicep):
    env = container_environment(bicep, "SingleTenant")
    assert env["BOT_ENVIRONMENT"] == "production"
    assert env["BOT_STORAGE"] == "blob"
    assert env["BOT_HOST"] == "0.0.0.0"
    assert env["WEBSITES_PORT"] == env["BOT_PORT"]
    for name in ("MicrosoftAppType", "MicrosoftAppId", "MicrosoftAppTenantId", "BOT_ALLOWED_TENANTS", "BOT_LOG_SALT"):
        assert env.get(name), name


@pytest.mark.parametrize("app_type", ["SingleTenant", "UserAssignedMSI"])
def test_the_bot_accepts_the_settings_the_template_gives_it(bicep, app_type):
    settings = Settings.from_env(container_environment(bicep, app_type))
    assert settings.environment == "production"
    assert settings.storage == "blob"
    assert settings.effective_app_type == app_type
    assert settings.allowed_tenants == frozenset({TEST_GUID})
    assert settings.local_contacts_path == Path("/app/config/local-contacts.yaml")
    assert settings.service_url_allowed("https://smba.trafficmanager.net/uk/")
    assert not settings.service_url_allowed("https://attacker.example/")


def test_app_types_offered_are_ones_the_bot_supports(bicep):
    allowed = re.search(r"@allowed\(\[(.*?)\]\)\s*param microsoftAppType", code_only(bicep), flags=re.DOTALL)
    offered = set(re.findall(r"'(\w+)'", allowed.group(1)))
    assert offered == {"SingleTenant", "UserAssignedMSI"}
    assert offered <= set(APP_TYPES)


def test_secrets_are_key_vault_references_never_values(bicep):
    settings = dict(app_settings(bicep))
    for name in SECRET_SETTINGS & settings.keys():
        assert settings[name].startswith("'@Microsoft.KeyVault(SecretUri="), name
    for name in ("MicrosoftAppPassword", "BOT_BLOB_CONNECTION_STRING", "BOT_LOG_SALT"):
        assert name in settings


def test_secret_parameters_are_secure_and_have_no_literal_values(bicep):
    declared = params(bicep)
    for name, info in declared.items():
        if re.search(r"password|secret|salt|key$", name, flags=re.IGNORECASE):
            assert info["secure"], f"param {name} must be @secure()"
    code = code_only(bicep)
    assert not re.search(r"AccountKey=[A-Za-z0-9+/]{20,}", code), "no storage key in the template"
    assert not re.search(r"param \w*(?:[Pp]assword|[Ss]ecret)\w* string = '[^']+'", code)


def test_the_app_is_https_only_with_a_health_check(bicep):
    code = code_only(bicep)
    assert "httpsOnly: true" in code
    assert "healthCheckPath: '/healthz'" in code
    assert "minTlsVersion: '1.2'" in code
    assert "allowBlobPublicAccess: false" in code


def test_parameters_example_matches_the_template(bicep):
    example = json.loads(PARAMETERS_EXAMPLE.read_text(encoding="utf-8"))["parameters"]
    declared = params(bicep)
    assert set(example) <= set(declared), "every example parameter exists in the template"
    required = {name for name, info in declared.items() if not info["default"]}
    assert required <= set(example), "the example sets every parameter without a default"
    assert not {name for name in example if declared[name]["secure"]}, "no secret in a parameters file"


def test_the_parameters_example_starts_on_a_new_deployment(bicep):
    """A new deployment's config share is empty, so the example must not point the bot at a
    contacts file there: it once did, and a copied deployment stopped at start ("local contacts
    file not found"). The file is an opt-in, set once it has been uploaded (RUNBOOK step 5)."""
    example = {name: str(entry["value"]) for name, entry in json.loads(PARAMETERS_EXAMPLE.read_text(encoding="utf-8"))["parameters"].items()}
    code = code_only(bicep)
    assert re.search(r"var contactsSettings = empty\(localContactsFileName\) \? \[\] :", code)
    env = container_environment(bicep, example.get("microsoftAppType", "SingleTenant"))
    chosen = example.get("localContactsFileName", declarations(bicep)["localContactsFileName"])
    if not chosen:  # the template leaves the setting out
        env.pop("LOCAL_CONTACTS_PATH", None)
    settings = Settings.from_env(env)
    assert settings.local_contacts_path is None or settings.local_contacts_path.exists()


def test_braces_and_brackets_balance(bicep):
    code = re.sub(r"'(?:[^'\\]|\\.)*'", "''", code_only(bicep))
    for opening, closing in ("{}", "[]", "()"):
        depth = 0
        for char in code:
            depth += (char == opening) - (char == closing)
            assert depth >= 0
        assert depth == 0, f"unbalanced {opening}{closing}"
