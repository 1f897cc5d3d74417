"""schemathesis hooks of infra/local/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

One filter, for the local emulator only. `cargo lambda watch` answers 500
itself, before any function runs, to two kinds of request it cannot put into
an API Gateway event: a body that is not UTF-8 (API Gateway hands those over
base64-encoded) and a header value outside visible ASCII. Such cases are
dropped here; fuzz_invoke.py sends the functions exactly those requests
through Lambda's Invoke API, as API Gateway would, and they must answer 4xx
problem+json.
"""

import schemathesis


def _is_utf8(body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def _is_visible_ascii(value):
    return all(c == "\t" or " " <= c <= "~" for c in str(value))


@schemathesis.hook
def filter_case(context, case):
    headers = case.headers or {}
    return _is_utf8(case.body) and all(_is_visible_ascii(v) for v in headers.values())
