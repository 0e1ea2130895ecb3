"""Request signatures: any change to method, target, body or timestamp breaks them; stale ones are refused."""

import pytest

from api.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, check_signature, signed_headers

KEY, NOW = "tenant-api-key", 1_800_000_000.0
BODY = b'{"query": "SSO login fails"}'


def _check(method="POST", target="/query", body=BODY, headers=None, now=NOW, key=KEY):
    h = headers if headers is not None else signed_headers(KEY, "POST", "/query", BODY, now=NOW)
    check_signature(key, method, target, body, h.get(TIMESTAMP_HEADER), h.get(SIGNATURE_HEADER), 300, now=now)


def test_a_signed_request_verifies_within_the_window():
    _check()
    _check(now=NOW + 300)
    _check(now=NOW - 300)


@pytest.mark.parametrize("change", [
    {"method": "PUT"}, {"target": "/query?limit=50"}, {"body": b'{"query": "billing"}'}, {"key": "other-key"},
])
def test_any_change_to_the_request_breaks_the_signature(change):
    with pytest.raises(SignatureError, match="does not match"):
        _check(**change)


def test_stale_future_and_missing_timestamps_are_refused():
    with pytest.raises(SignatureError, match="window"):
        _check(now=NOW + 301)
    with pytest.raises(SignatureError, match="window"):
        _check(now=NOW - 301)
    headers = signed_headers(KEY, "POST", "/query", BODY, now=NOW)
    with pytest.raises(SignatureError, match="required"):
        _check(headers={SIGNATURE_HEADER: headers[SIGNATURE_HEADER]})
    with pytest.raises(SignatureError, match="Unix seconds"):
        _check(headers={**headers, TIMESTAMP_HEADER: "yesterday"})
