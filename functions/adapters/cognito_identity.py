"""Accounts on a Cognito user pool (email as the username) through its public app client.

SignUp, ConfirmSignUp, InitiateAuth and GetUser are client APIs that need no IAM; only
lookup_email (the notifications function) uses IAM: cognito-idp:AdminGetUser on the pool.
"""

from __future__ import annotations

from functions.shop.ports import IdentityError, Principal, Tokens, UserInfo

from .aws_clients import client

ERRORS = {
    "UsernameExistsException": ("USER_EXISTS", "an account with this email already exists", 409),
    "InvalidPasswordException": ("INVALID_PASSWORD", "the password does not meet the policy", 400),
    "InvalidParameterException": ("INVALID_PARAMETER", "invalid sign-up details", 400),
    "CodeMismatchException": ("CODE_MISMATCH", "invalid confirmation code", 400),
    "ExpiredCodeException": ("CODE_EXPIRED", "the confirmation code has expired", 400),
    "NotAuthorizedException": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    # no user enumeration: an unknown user looks like a wrong password
    "UserNotFoundException": ("NOT_AUTHORIZED", "incorrect email or password", 401),
    "UserNotConfirmedException": ("USER_NOT_CONFIRMED", "confirm your account first", 403),
    "TooManyRequestsException": ("TOO_MANY_REQUESTS", "too many attempts; wait and retry", 429),
    "LimitExceededException": ("TOO_MANY_REQUESTS", "too many attempts; wait and retry", 429),
}


def _identity_call(fn, **kwargs):
    from botocore.exceptions import ClientError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        mapped = ERRORS.get(exc.response.get("Error", {}).get("Code", ""))
        if mapped is None:
            raise
        raise IdentityError(*mapped) from exc


class CognitoIdentity:
    def __init__(self, user_pool_id: str, client_id: str, auto_confirm: bool = False) -> None:
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.auto_confirm = auto_confirm  # local stack only: there is no inbox to read a code from

    @property
    def idp(self):
        return client("cognito-idp")

    def sign_up(self, email: str, password: str) -> str:
        email = email.lower()
        resp = _identity_call(
            self.idp.sign_up,
            ClientId=self.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        if self.auto_confirm:
            from .aws_clients import acting_as

            # Local stack only: it stands in for the user typing the e-mailed code. Not a call
            # the function makes on AWS, so not one its role is checked for.
            with acting_as(None):
                self.idp.admin_confirm_sign_up(UserPoolId=self.user_pool_id, Username=email)
        return resp["UserSub"]

    def confirm(self, email: str, code: str) -> None:
        _identity_call(self.idp.confirm_sign_up, ClientId=self.client_id, Username=email.lower(), ConfirmationCode=code)

    @staticmethod
    def _tokens(result: dict, refresh_token: str | None = None) -> Tokens:
        return Tokens(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken", refresh_token),
            expires_in=int(result["ExpiresIn"]),
        )

    def log_in(self, email: str, password: str) -> Tokens:
        resp = _identity_call(
            self.idp.initiate_auth,
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email.lower(), "PASSWORD": password},
        )
        return self._tokens(resp["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> Tokens:
        resp = _identity_call(
            self.idp.initiate_auth,
            ClientId=self.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
        return self._tokens(resp["AuthenticationResult"], None)

    def user_info(self, principal: Principal) -> UserInfo:
        if principal.email:
            return UserInfo(principal.user_id, principal.email, principal.groups)
        if not principal.access_token:
            raise IdentityError("UNAUTHORIZED", "no access token", 401)
        resp = _identity_call(self.idp.get_user, AccessToken=principal.access_token)
        attrs = {a["Name"]: a["Value"] for a in resp["UserAttributes"]}
        return UserInfo(attrs.get("sub", principal.user_id), attrs.get("email", resp["Username"]), principal.groups)

    def lookup_email(self, user_id: str) -> str | None:
        """One user's e-mail by id: AdminGetUser on that user (with e-mail as the username
        attribute, Cognito's username is the sub). Not ListUsers: it would let the role
        enumerate every customer's address."""
        from botocore.exceptions import ClientError

        try:
            resp = self.idp.admin_get_user(UserPoolId=self.user_pool_id, Username=user_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return None
            raise
        attrs = {a["Name"]: a["Value"] for a in resp.get("UserAttributes", [])}
        return attrs.get("email")
