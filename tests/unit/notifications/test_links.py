import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.notifications.links import (
    DECLARATION,
    DeclarationLinks,
    LinkSigner,
    LinkTokenError,
    TokenProblem,
    verify_token,
)

SECRET = "a-link-secret-for-the-tests-only"
REGISTRATION = UUID("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
ISSUED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
EXPIRES = ISSUED + timedelta(days=30)


def a_token() -> str:
    return LinkSigner(SECRET).sign(REGISTRATION, DECLARATION, EXPIRES)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_names_the_registration_the_document_and_its_expiry() -> None:
    claims = verify_token(a_token(), secret=SECRET, now=ISSUED)

    assert claims.registration_id == REGISTRATION
    assert claims.document == DECLARATION
    assert claims.expires_at == EXPIRES


def test_the_link_points_at_the_declaration_endpoint_and_its_token_verifies() -> None:
    links = DeclarationLinks(LinkSigner(SECRET), "https://dichvucong.example.vn/", valid_days=30)

    url = links.url(REGISTRATION, ISSUED)

    prefix = "https://dichvucong.example.vn/declarations/"
    assert url.startswith(prefix)
    claims = verify_token(url.removeprefix(prefix), secret=SECRET, now=ISSUED + timedelta(days=29))
    assert claims.registration_id == REGISTRATION
    assert claims.expires_at == ISSUED + timedelta(days=30)


def test_the_same_issue_time_gives_the_same_link() -> None:
    links = DeclarationLinks(LinkSigner(SECRET), "https://dichvucong.example.vn", valid_days=30)

    assert links.url(REGISTRATION, ISSUED) == links.url(REGISTRATION, ISSUED)


def test_a_token_is_url_safe_and_short_enough_for_an_sms() -> None:
    token = a_token()

    assert len(token) <= 72
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(LinkTokenError) as refused:
        verify_token(a_token(), secret=SECRET, now=EXPIRES)

    assert refused.value.problem is TokenProblem.EXPIRED


def test_a_token_signed_with_another_secret_is_refused() -> None:
    foreign = LinkSigner("another-secret-of-another-system").sign(
        REGISTRATION, DECLARATION, EXPIRES
    )

    with pytest.raises(LinkTokenError) as refused:
        verify_token(foreign, secret=SECRET, now=ISSUED)

    assert refused.value.problem is TokenProblem.BAD_SIGNATURE


def test_a_token_signed_for_another_purpose_is_refused() -> None:
    foreign = LinkSigner(SECRET, purpose="password-reset").sign(REGISTRATION, DECLARATION, EXPIRES)

    with pytest.raises(LinkTokenError) as refused:
        verify_token(foreign, secret=SECRET, now=ISSUED)

    assert refused.value.problem is TokenProblem.BAD_SIGNATURE


def test_a_token_for_another_registration_cannot_be_made_by_editing_one() -> None:
    raw = bytearray(_raw(a_token()))
    raw[1:17] = UUID("00000000-0000-4000-8000-000000000000").bytes

    with pytest.raises(LinkTokenError) as refused:
        verify_token(_encode(bytes(raw)), secret=SECRET, now=ISSUED)

    assert refused.value.problem is TokenProblem.BAD_SIGNATURE


def test_a_longer_life_cannot_be_given_to_a_token_by_editing_it() -> None:
    raw = bytearray(_raw(a_token()))
    raw[17:21] = int((EXPIRES + timedelta(days=365)).timestamp()).to_bytes(4, "big")

    with pytest.raises(LinkTokenError):
        verify_token(_encode(bytes(raw)), secret=SECRET, now=ISSUED)


@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_changing_any_byte_of_a_token_makes_it_refused(position: int, flip: int) -> None:
    raw = bytearray(_raw(a_token()))
    raw[position % len(raw)] ^= flip

    with pytest.raises(LinkTokenError):
        verify_token(_encode(bytes(raw)), secret=SECRET, now=ISSUED)


@pytest.mark.parametrize("token", ["", "!!!!", "abc", "A" * 20, a_token()[:-2]])
def test_garbage_is_refused_as_malformed_or_unsigned(token: str) -> None:
    with pytest.raises(LinkTokenError) as refused:
        verify_token(token, secret=SECRET, now=ISSUED)

    assert refused.value.problem in (TokenProblem.MALFORMED, TokenProblem.BAD_SIGNATURE)


def test_the_refusal_does_not_quote_the_token() -> None:
    token = a_token()

    with pytest.raises(LinkTokenError) as refused:
        verify_token(token, secret=SECRET, now=EXPIRES)

    assert token not in str(refused.value)


def test_a_short_secret_is_refused_when_the_signer_is_built() -> None:
    with pytest.raises(ValueError, match="link secret"):
        LinkSigner("short")
