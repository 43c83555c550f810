"""The official SDK's client for a provider bundle, with credentials from the environment only.

- openai: `openai.OpenAI()`; the SDK reads OPENAI_API_KEY (required here, so a
  missing key is one clear line instead of a stack), OPENAI_BASE_URL,
  OPENAI_ORG_ID and OPENAI_PROJECT_ID itself.
- azure-openai: `openai.AzureOpenAI(azure_endpoint, api_version,
  azure_deployment)` with each value from the lock (backend.azure), else the
  environment (AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION), else, for the API
  version, ftc's provider table.  Credentials: AZURE_OPENAI_API_KEY, else
  AZURE_OPENAI_AD_TOKEN, else Azure AD through azure-identity when installed
  (DefaultAzureCredential: managed identity, az login, ...).

`openai` is imported here, lazily: nothing on the compiler side imports this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ftc.providers import table

MAX_RETRIES = 5  # the SDK's own retries (429, 5xx, connection) with exponential backoff
AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"


class LaunchProblem(Exception):
    """A known reason a provider launch cannot go on: rule id, message, hint."""

    def __init__(self, rule: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.rule, self.message, self.hint = rule, message, hint


@dataclass(frozen=True)
class Connection:
    client: Any
    where: dict  # what the run directory records about it: never a credential


def import_openai():
    try:
        import openai
    except ImportError:
        raise LaunchProblem("FTC535", "the openai SDK is not installed",
                            "pip install 'ftc[provider]' (openai==3.51.0)") from None
    return openai


def connect(lock: dict) -> Connection:
    openai = import_openai()
    if lock["backend"]["kind"] == "openai":
        if not os.environ.get("OPENAI_API_KEY"):
            raise LaunchProblem("FTC530", "OPENAI_API_KEY is not set",
                                "export OPENAI_API_KEY=... (keys are never read from a recipe "
                                "or bundle)")
        client = openai.OpenAI(max_retries=MAX_RETRIES)
        return Connection(client, {"provider": "openai", "base_url": _public(client.base_url)})
    return _azure(openai, lock)


def _azure(openai, lock: dict) -> Connection:
    azure = lock["backend"].get("azure") or {}
    endpoint = azure.get("endpoint") or os.environ.get("AZURE_OPENAI_ENDPOINT")
    if not endpoint:
        raise LaunchProblem("FTC531", "no Azure OpenAI endpoint",
                            "set backend.azure.endpoint in the recipe or AZURE_OPENAI_ENDPOINT")
    version = (azure.get("api_version") or os.environ.get("OPENAI_API_VERSION")
               or table.provider("azure-openai")["api_version"])
    credential, how = _azure_credential()
    client = openai.AzureOpenAI(azure_endpoint=endpoint, api_version=version,
                                azure_deployment=azure.get("deployment"),
                                max_retries=MAX_RETRIES, **credential)
    return Connection(client, {"provider": "azure-openai", "endpoint": _public(endpoint),
                               "api_version": version, "deployment": azure.get("deployment"),
                               "credential": how})


def _public(url: object) -> str:
    """A URL as it may be written to the run directory: without user:password@."""
    parts = urlsplit(str(url))
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _azure_credential() -> tuple[dict, str]:
    if os.environ.get("AZURE_OPENAI_API_KEY"):
        return {"api_key": os.environ["AZURE_OPENAI_API_KEY"]}, "AZURE_OPENAI_API_KEY"
    if os.environ.get("AZURE_OPENAI_AD_TOKEN"):
        return {"azure_ad_token": os.environ["AZURE_OPENAI_AD_TOKEN"]}, "AZURE_OPENAI_AD_TOKEN"
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    except ImportError:
        raise LaunchProblem("FTC530", "no Azure OpenAI credential in the environment",
                            "export AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN, or "
                            "pip install azure-identity to use Azure AD") from None
    provider = get_bearer_token_provider(DefaultAzureCredential(), AZURE_SCOPE)
    return {"azure_ad_token_provider": provider}, "Azure AD (DefaultAzureCredential)"
