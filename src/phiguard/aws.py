"""AWS set-up and error translation, shared by Comprehend, DynamoDB, KMS and STS.

One place decides where calls go (region, profile, endpoint: `Target`, `resolve`, `client`) and
one translator turns any botocore failure (also one wrapped by pynamodb) into a phiguard error:
one line naming the operation, the IAM action, the region or endpoint and the AWS error code,
never request or response data, since service messages may echo the text sent. The caller picks
the error class, and so the exit code (DetectionError 4, VaultError 5, EncryptionKeyError 6).

Messages name settings in library terms; `PhiguardError.hint` says which one would fix it, and
a front end (the CLI) words that in its own flags.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, TypeVar, cast

from phiguard.errors import ConfigError, Hint, PhiguardError

__all__ = [
    "LOCAL_SIGNING_REGION",
    "Call",
    "Failure",
    "Target",
    "classify",
    "client",
    "error_code",
    "errors",
    "frozen_credentials",
    "is_aws_error",
    "resolve",
    "translate",
]

#: Signing region for an `endpoint_url` server (DynamoDB Local, dynalite), which ignores it.
LOCAL_SIGNING_REGION = "us-east-1"

Credentials = tuple[str, str, str | None]  # access key id, secret, session token
E = TypeVar("E", bound=PhiguardError)


@dataclass(frozen=True, slots=True)
class Target:
    """Where AWS calls go. `None` fields fall back to botocore's chain (AWS_PROFILE,
    AWS_DEFAULT_REGION, the profile's region, AWS_ENDPOINT_URL_<SERVICE>), then AWS_REGION."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    @property
    def where(self) -> str:
        """' in region R' (and ' at URL' for an endpoint), for error lines."""
        where = f" in region {self.region}" if self.region else ""
        return where + (f" at {self.endpoint_url}" if self.endpoint_url else "")


def _boto3(error: type[PhiguardError]) -> Any:
    try:
        import boto3
    except ImportError:
        raise error("AWS support needs boto3: pip install 'phiguard[aws]'") from None
    return boto3


def _session(target: Target, error: type[PhiguardError]) -> Any:
    boto3 = _boto3(error)
    import botocore.exceptions

    try:
        return boto3.Session(profile_name=target.profile, region_name=target.region)
    except botocore.exceptions.ProfileNotFound:
        raise error(_profile_not_found(target.profile), hint=Hint.PROFILE) from None


def _profile_not_found(profile: str | None) -> str:
    return f"AWS profile '{profile}' not found in ~/.aws/config or ~/.aws/credentials"


def resolve(target: Target, service: str, error: type[PhiguardError] = ConfigError) -> Target:
    """`target` with its region filled in: given, else botocore's chain, else AWS_REGION
    (which botocore does not read, but the AWS CLI and other SDKs do), else the local signing
    region if an endpoint is given. No region at all is an error naming `service`."""
    return _resolved(target, _session(target, error), service, error)


def _resolved(target: Target, session: Any, service: str, error: type[PhiguardError]) -> Target:
    region = target.region or session.region_name or os.environ.get("AWS_REGION")
    if not region and target.endpoint_url:
        region = LOCAL_SIGNING_REGION
    if not region:
        raise error(
            f"no AWS region configured for {service} (none given, none in AWS_REGION, "
            "AWS_DEFAULT_REGION or the AWS profile)",
            hint=Hint.REGION,
        )
    return replace(target, region=region)


def client(
    service: str,
    target: Target,
    *,
    label: str,
    error: type[PhiguardError],
    max_attempts: int = 4,
    connect_timeout: float = 5.0,
) -> Any:
    """A boto3 client for `service` (e.g. "kms") at `target`, with botocore's standard retries
    (`max_attempts` 1 turns them off, for callers that retry themselves). `label` names the
    service in errors ("KMS"); set-up failures raise `error`."""
    from botocore.config import Config

    session = _session(target, error)
    resolved = _resolved(target, session, label, error)
    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        user_agent_extra="phiguard",
    )
    try:
        return session.client(
            service,
            region_name=resolved.region,
            endpoint_url=resolved.endpoint_url,
            config=config,
        )
    except errors() as exc:
        raise translate(exc, Call(label, f"create a {label} client", "", resolved), error) from None


def frozen_credentials(profile: str | None, error: type[PhiguardError]) -> Credentials | None:
    """The current credentials of `profile`, for clients that cannot take a profile (pynamodb
    builds its own botocore session); None without a profile (botocore's chain then applies,
    and refreshes them). Frozen: temporary credentials are not refreshed."""
    if profile is None:
        return None
    import botocore.exceptions
    import botocore.session

    try:
        creds = botocore.session.Session(profile=profile).get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except botocore.exceptions.ProfileNotFound:
        raise error(_profile_not_found(profile), hint=Hint.PROFILE) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise error(
            f"could not load the credentials of AWS profile '{profile}' "
            f"({type(exc).__name__}: {_one_line(str(exc), 120)}); "
            f"run `aws sso login --profile {profile}` or fix the profile"
        ) from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise error(
            f"AWS profile '{profile}' has no usable credentials; "
            f"run `aws sso login --profile {profile}` or fix ~/.aws/credentials",
            hint=Hint.PROFILE,
        )
    return frozen.access_key, frozen.secret_key, frozen.token


# -- the translator ----------------------------------------------------------------------------


class Failure(Enum):
    """What kind of failure an AWS exception is; each has one wording in `translate`."""

    DENIED = "denied"
    CREDENTIALS_REJECTED = "credentials rejected"
    NO_CREDENTIALS = "no credentials"
    SESSION_EXPIRED = "session expired"
    PROFILE_NOT_FOUND = "profile not found"
    NO_REGION = "no region"
    THROTTLED = "throttled"
    NOT_FOUND = "not found"
    UNREACHABLE = "unreachable"
    UNKNOWN_SERVICE = "unknown service"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Call:
    """The operation that failed, as error lines name it.

    `what` reads after "may not" ("write DynamoDB table 'v'"), `actions` are the IAM actions
    involved. `resource` names what a not-found error is about ("DynamoDB table 'v'") and
    `missing` the hint for it. `advice` adds service advice per error code, `throttled` the
    advice once retries are exhausted. `quote_message` adds the service's message to otherwise
    unexplained errors: only for services whose messages cannot echo the data sent (DynamoDB
    and KMS see ciphertext and hashes; Comprehend's messages may quote the note).
    """

    service: str
    what: str
    actions: str
    target: Target = Target()
    resource: str | None = None
    missing: Hint | None = None
    advice: Mapping[str, str] = field(default_factory=dict)
    throttled: str = "retry later"
    quote_message: bool = False


_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "ExpiredToken",
        "RequestExpired",
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        "IncompleteSignatureException",
        "IncompleteSignature",
    }
)
THROTTLED_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
    }
)
_NOT_FOUND = frozenset({"ResourceNotFoundException", "NotFoundException"})
_SESSION_EXPIRED = frozenset(
    {"TokenRetrievalError", "SSOTokenLoadError", "UnauthorizedSSOTokenError"}
)
_NO_CREDENTIALS = frozenset({"NoCredentialsError", "PartialCredentialsError"})

_XML_CODE = re.compile(r"<Code>(\w+)</Code>")


def _cause(exc: BaseException) -> BaseException:
    """The botocore error inside a pynamodb one (pynamodb keeps it as `cause`)."""
    pynamodb = sys.modules.get("pynamodb.exceptions")
    wrapped = pynamodb is not None and isinstance(exc, pynamodb.PynamoDBException)
    inner = cast(Any, exc).cause if wrapped else None
    return _cause(inner) if isinstance(inner, BaseException) else exc


def errors() -> tuple[type[BaseException], ...]:
    """What an AWS call can raise, for `except aws.errors() as exc` (evaluated only when an
    exception is being matched, so botocore is imported only by code that called AWS)."""
    import botocore.exceptions

    found: tuple[type[BaseException], ...] = (
        botocore.exceptions.BotoCoreError,
        botocore.exceptions.ClientError,  # not a BotoCoreError
    )
    pynamodb = sys.modules.get("pynamodb.exceptions")
    if pynamodb is not None:
        found += (pynamodb.PynamoDBException,)
    return found


def is_aws_error(exc: BaseException) -> bool:
    """True for botocore and pynamodb exceptions: the ones `translate` understands."""
    return any(
        cls.__module__.split(".", 1)[0] in ("botocore", "pynamodb") for cls in type(exc).__mro__
    )


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a (possibly pynamodb-wrapped) ClientError, else None.

    Some endpoints (moto_server's IAM layer, proxies) answer a JSON-protocol call with an XML
    error body; botocore then reports the HTTP status as the code and the XML as the message.
    """
    response = getattr(_cause(exc), "response", None)
    if not isinstance(response, Mapping) or not isinstance(response.get("Error"), Mapping):
        return None
    err = response["Error"]
    code = str(err.get("Code", "Unknown"))
    if code.isdigit():
        found = _XML_CODE.search(str(err.get("Message", "")))
        if found:
            return found.group(1)
    return code


def classify(exc: BaseException) -> Failure | None:
    """The kind of an AWS failure, or None if `exc` is not a botocore/pynamodb error."""
    if not is_aws_error(exc):
        return None
    import botocore.exceptions as bx

    cause = _cause(exc)
    code = error_code(cause)
    kind = type(cause).__name__
    if code is not None:
        status = getattr(cause, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _CREDENTIALS:
            return Failure.CREDENTIALS_REJECTED
        if code in _DENIED or status == 403:
            return Failure.DENIED
        if code in THROTTLED_CODES:
            return Failure.THROTTLED
        if code in _NOT_FOUND:
            return Failure.NOT_FOUND
        return Failure.OTHER
    if kind == "TableDoesNotExist":  # pynamodb's own, with no botocore cause
        return Failure.NOT_FOUND
    if kind in _NO_CREDENTIALS or kind == "CredentialRetrievalError":
        return Failure.NO_CREDENTIALS
    if kind in _SESSION_EXPIRED:
        return Failure.SESSION_EXPIRED
    if isinstance(cause, bx.ProfileNotFound):
        return Failure.PROFILE_NOT_FOUND
    if isinstance(cause, bx.NoRegionError):
        return Failure.NO_REGION
    if isinstance(cause, bx.ConnectionError | bx.HTTPClientError):
        return Failure.UNREACHABLE
    if isinstance(cause, bx.UnknownServiceError):
        return Failure.UNKNOWN_SERVICE
    return Failure.OTHER


def translate(exc: BaseException, call: Call, error: type[E]) -> E:
    """One PHI-free line for a failed AWS call, as an `error`; raise it `from None`."""
    cause = _cause(exc)
    kind = type(cause).__name__
    failure = classify(exc) or Failure.OTHER
    detail = _detail(cause)
    paren = f"({call.actions}: {detail})" if call.actions else f"({detail})"
    where = call.target.where
    if failure is Failure.DENIED:
        return error(
            f"access denied: this AWS identity may not {call.what}{where} {paren}; see docs/iam/"
        )
    if failure is Failure.CREDENTIALS_REJECTED:
        return error(
            f"AWS credentials were rejected by {call.service}{where} {paren}: they are expired "
            "or invalid; refresh them (e.g. `aws sso login`)",
            hint=Hint.PROFILE,
        )
    if failure is Failure.NO_CREDENTIALS:
        return error(
            f"no AWS credentials found for {call.service} ({kind}); set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run under an IAM role",
            hint=Hint.PROFILE,
        )
    if failure is Failure.SESSION_EXPIRED:
        return error(
            f"the AWS session has expired ({kind}); run `aws sso login` and retry",
            hint=Hint.PROFILE,
        )
    if failure is Failure.PROFILE_NOT_FOUND:
        return error(_profile_not_found(call.target.profile), hint=Hint.PROFILE)
    if failure is Failure.NO_REGION:
        return error(f"no AWS region configured for {call.service} ({kind})", hint=Hint.REGION)
    if failure is Failure.THROTTLED:
        return error(
            f"{call.service} is throttling or unavailable{where} {paren}; {call.throttled}"
        )
    if failure is Failure.NOT_FOUND and call.resource:
        return error(f"{call.resource} does not exist{where} {paren}", hint=call.missing)
    if failure is Failure.UNREACHABLE:
        url = call.target.endpoint_url or _endpoint_of(cause)
        region = call.target.region
        place = url or f"the {call.service} endpoint" + (f" of region {region}" if region else "")
        hint = None  # an endpoint from AWS_ENDPOINT_URL_<SERVICE>: no setting of ours fixes it
        if call.target.endpoint_url:
            hint = Hint.ENDPOINT
        elif url is None or url.endswith(".amazonaws.com"):
            hint = Hint.REGION  # AWS's own endpoint: the region may be wrong
        return error(
            f"cannot reach {place} ({kind}) to {call.what}; check the network and retry", hint=hint
        )
    if failure is Failure.UNKNOWN_SERVICE:
        return error(
            f"this botocore does not know {call.service}: upgrade boto3 (pip install -U boto3)"
        )
    code = error_code(cause)
    advice = call.advice.get(code or kind, "")
    message = ""
    if call.quote_message:
        err = getattr(cause, "response", {}).get("Error", {})
        message = _one_line(str(err.get("Message", "") if code else cause))
    return error(
        f"could not {call.what}{where} {paren}"
        + (f": {advice}" if advice else "")
        + (f": {message}" if message else "")
    )


def _detail(exc: BaseException) -> str:
    """'Code, HTTP 400, request id R' for a ClientError, else the exception's class name."""
    code = error_code(exc)
    if code is None:
        return type(exc).__name__
    meta = getattr(exc, "response", {}).get("ResponseMetadata") or {}
    parts = [code]
    if meta.get("HTTPStatusCode"):
        parts.append(f"HTTP {meta['HTTPStatusCode']}")
    if meta.get("RequestId"):
        parts.append(f"request id {meta['RequestId']}")
    return ", ".join(parts)


def _endpoint_of(exc: BaseException) -> str | None:
    """The URL botocore could not reach (its connection errors keep it), without the path."""
    url = getattr(exc, "kwargs", {}).get("endpoint_url")
    if not isinstance(url, str):
        return None
    found = re.match(r"[a-z]+://[^/]+", url)
    return found.group(0) if found else None


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
