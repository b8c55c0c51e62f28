"""The ``Idempotency-Key`` header every API recording requires, and the header that tells a
client its retry was answered from the first attempt."""

from typing import Annotated

from fastapi import Depends, Header, Response

from cohort import idempotency

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="A fresh key per recording (16 to 64 letters, digits, dots, dashes, "
            "colons or underscores, such as a UUID). A retry with the same key returns the "
            "first result and saves nothing twice.",
        ),
    ] = None,
) -> str:
    return idempotency.check_token(key, field=HEADER)


# Declare it after the caller's role dependency, so an anonymous call is told to sign in.
IdempotencyKey = Annotated[str, Depends(idempotency_key)]


def mark_replay(response: Response, done: idempotency.Done) -> None:
    if done.replayed:
        response.headers[REPLAYED] = "true"
