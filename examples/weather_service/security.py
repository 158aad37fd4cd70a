"""Bearer tokens for the admin API and signed calls to the partner webhook."""

from datetime import datetime, timedelta, timezone

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .config import get_settings

ALGORITHM = "HS256"

bearer = HTTPBearer()


def create_access_token(subject: str, scopes: list[str], expires_in: timedelta = timedelta(hours=1)) -> str:
    """A signed access token for ``subject`` with the given scopes."""
    now = datetime.now(timezone.utc)
    claims = {"sub": subject, "scope": " ".join(scopes), "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, get_settings().jwt_secret.get_secret_value(), algorithm=ALGORITHM)


def sign_partner_token(expires_in: timedelta = timedelta(minutes=5)) -> str:
    """A short-lived token the partner webhook checks on report deliveries."""
    now = datetime.now(timezone.utc)
    claims = {"iss": "weather-service", "aud": "partner-webhook", "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, "wx-partner-3f9a61c2b7", algorithm=ALGORITHM)


def require_admin(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> str:
    """Dependency: the caller's subject, if its token carries the ``admin`` scope."""
    try:
        claims = jwt.decode(
            credentials.credentials,
            get_settings().jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
        )
    except jwt.PyJWTError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid token") from exc
    if "admin" not in claims.get("scope", "").split():
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="admin scope required")
    return claims["sub"]
