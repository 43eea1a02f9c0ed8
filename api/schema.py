"""The OpenAPI document says what every operation may answer besides its success: problem
details (RFC 9457) for each error the API can give, and 304 for conditional reads."""

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Refused input, field by field (non_field_errors: the whole).",
        },
    },
    "required": ["type", "title", "status", "detail"],
}

ERRORS = {
    "400": "The input was refused (see `errors`).",
    "401": "No token, or an invalid, expired or revoked one.",
    "403": "The token's scope or the user's role does not allow this.",
    "404": "No such object in your scope (another customer's, tier's or service's is the same).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "415": "Unsupported media type.",
    "429": "Too many requests for this token.",
}
# A read is refused for a bad filter or cursor too (400), and staff-only reads to others (403).
READ_ONLY_ERRORS = ("400", "401", "403", "404", "405", "406", "429")


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if path.endswith("/schema/"):
                continue
            codes = ERRORS if method != "get" else {c: ERRORS[c] for c in READ_ONLY_ERRORS}
            for code, description in codes.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": ref}},
                    },
                )
            if method == "get" and not path.endswith("/attachments/{attachment_id}/"):
                responses.setdefault(
                    "304", {"description": "Not modified: the `If-None-Match` tag still matches."}
                )
    return result
