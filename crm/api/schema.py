"""Schema post-processing: the error answers every operation may give, so clients (and the
schemathesis test) know their shape."""

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERRORS = {"$ref": "#/components/schemas/ValidationErrors"}


def _response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    }
    schemas["ValidationErrors"] = {
        "type": "object",
        "description": "Messages per field (`non_field_errors` for the whole body).",
        "additionalProperties": {},
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            has_id = "{id}" in path
            unsafe = method in {"post", "put", "patch", "delete"}
            if method in {"post", "put", "patch"} or (method == "get" and not has_id):
                responses.setdefault("400", _response("Invalid input or filter; nothing was changed.",
                                                      VALIDATION_ERRORS))
            responses.setdefault("401", _response("No credentials, or an invalid, revoked or inactive user's token.",
                                                  ERROR))
            if unsafe:
                responses.setdefault("403", _response("Your role may not do this, or (session) the CSRF check "
                                                      "failed.", ERROR))
            if has_id or method == "get":
                responses.setdefault("404", _response("No such record, or one hidden from you (or an invalid "
                                                      "cursor).", ERROR))
            responses.setdefault("429", _response("Too many requests for this token.", ERROR, headers={
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until you may retry."},
            }))
    return result
