"""GET /openapi.json: the API's OpenAPI 3 description, kept next to the routes it describes.

A test checks that every route is described and every described path is routed, and that the request
bodies' required fields are the ones the validators insist on.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.agent_scope import AGENT_HEADER
from api.routes.feedback import ITEM_TYPES, RATINGS
from api.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from copilot.answering import CONTENT_TYPES

OPENAPI_PATH = "/openapi.json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "invalid input; `field` names it"),
    "401": _json(_ref("Error"), "unknown domain, wrong API key, or a missing, stale or replayed signature"),
    "413": _json(_ref("Error"), "body larger than allowed"),
}
_TENANT_HEADERS = [
    {"name": TIMESTAMP_HEADER, "in": "header", "required": False, "schema": {"type": "string"},
     "description": "Unix seconds; with request signing"},
    {"name": SIGNATURE_HEADER, "in": "header", "required": False, "schema": {"type": "string"},
     "description": "hex HMAC-SHA256 of METHOD\\nPATH?QUERY\\nTIMESTAMP\\nSHA256(BODY), keyed by the API key"},
    {"name": AGENT_HEADER, "in": "header", "required": False, "schema": {"type": "integer"},
     "description": "the agent asking: results keep to the tickets their Freshdesk ticket scope (global, group, "
                    "restricted) lets them see; recorded with votes"},
]
_SCOPE_ERRORS = {
    "403": _json(_ref("Error"), "the helpdesk has no such agent, or the ticket is outside the agent's scope"),
    "502": _json(_ref("Error"), "the helpdesk could not be asked (a ticket not indexed yet, an agent's scope)"),
}
_PLAIN = {"description": "plain text", "content": {"text/plain": {"schema": {"type": "string"}}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}},
    "Summary": {"type": "object", "properties": {
        name: {"type": "string"} for name in ("problem", "cause", "solution", "result", "summarizer")}},
    "TicketHit": {"type": "object", "properties": {
        "ticket_id": {"type": "integer"}, "subject": {"type": "string"}, "summary": _ref("Summary"),
        "resolution": {"type": "string"}, "status": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}, "score": {"type": "number"},
        "feedback_boost": {"type": "number"},
        "matched_terms": {"type": "array", "items": {"type": "string"},
                          "description": "words of the question the ticket's subject and summary share"}}},
    "Attachment": {"type": "object", "properties": {
        "ticket_id": {"type": "integer"}, "name": {"type": "string"}, "content_type": {"type": "string"},
        "size": {"type": "integer"}}},
    "ArticleHit": {"type": "object", "properties": {
        "article_id": {"type": "integer"}, "title": {"type": "string"}, "snippet": {"type": "string"},
        "score": {"type": "number"}, "feedback_boost": {"type": "number"}}},
    "InitResponse": {"type": "object", "properties": {
        "query_id": {"type": "string"}, "ticket_id": {"type": "integer"}, "subject": {"type": "string"},
        "ticket_summary": _ref("Summary"), "similar_tickets": {"type": "array", "items": _ref("TicketHit")},
        "related_solutions": {"type": "array", "items": _ref("ArticleHit")},
        "indexed": {"type": "object", "nullable": True,
                    "description": "null when the summary was computed on demand"}}},
    "QueryRequest": {"type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": 2000},
        "types": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(CONTENT_TYPES)},
                  "description": "what to search; default: chosen from the question"},
        "ticket_id": {"type": "integer", "minimum": 1, "description": "the open ticket, never a result"},
        "stream": {"type": "boolean", "default": False,
                   "description": "reply as Server-Sent Events: results, answer pieces, done"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}}},
    "QueryResponse": {"type": "object", "properties": {
        "query_id": {"type": "string"}, "query": {"type": "string"},
        "intent": {"type": "object", "properties": {
            "types": {"type": "array", "items": {"type": "string"}}, "answer": {"type": "boolean"}}},
        "answer": {"type": "object", "nullable": True, "properties": {
            "text": {"type": "string", "description": "extractive, each sentence followed by [#id] or [KB-id]"},
            "citations": {"type": "array", "items": {"type": "string"}},
            "fallback": {"type": "boolean", "description": "the chat model failed; the answer is extractive"}}},
        "tickets": {"type": "array", "items": _ref("TicketHit")},
        "solutions": {"type": "array", "items": _ref("ArticleHit")},
        "attachments": {"type": "array", "items": _ref("Attachment")}}},
    "FeedbackRequest": {"type": "object", "required": ["query_id", "item_type", "item_id", "rating"],
                        "properties": {
        "query_id": {"type": "string", "maxLength": 64}, "item_type": {"type": "string", "enum": list(ITEM_TYPES)},
        "item_id": {"type": "integer", "minimum": 1}, "rating": {"type": "string", "enum": list(RATINGS)},
        "ticket_id": {"type": "integer", "minimum": 1}}},
    "FeedbackAccepted": {"type": "object", "properties": {
        "status": {"type": "string"}, "feedback_id": {"type": "string"}}},
}

PATHS: dict[str, Any] = {
    "/init/{ticket_id}": {"get": {
        "summary": "The ticket's summary, similar past tickets and related KB articles",
        "parameters": [
            {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50}},
            *_TENANT_HEADERS],
        "responses": {"200": _json(_ref("InitResponse"), "summary and recommendations"), **_ERRORS,
                      "404": _json(_ref("Error"), "no such ticket for this tenant"), **_SCOPE_ERRORS}}},
    "/query": {"post": {
        "summary": "Search the tenant's tickets and KB articles in natural language",
        "parameters": _TENANT_HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("QueryRequest")}}},
        "responses": {"200": {
            "description": "ranked tickets and articles, and an answer to a question",
            "content": {"application/json": {"schema": _ref("QueryResponse")},
                        "text/event-stream": {"schema": {
                            "type": "string", "description": "with stream: events results, answer {delta}, "
                                                            "done {citations, fallback}"}}}}, **_ERRORS,
                      **_SCOPE_ERRORS}}},
    "/feedback": {"post": {
        "summary": "Thumbs up or down on an item an answer showed",
        "parameters": _TENANT_HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("FeedbackRequest")}}},
        "responses": {"202": _json(_ref("FeedbackAccepted"), "vote published"), **_ERRORS,
                      "404": _json(_ref("Error"), "unknown or expired query_id"),
                      "422": _json(_ref("Error"), "the item was not in that answer"),
                      "503": _json(_ref("Error"), "the vote could not be stored; retry")}}},
    "/webhooks/freshdesk/{tenant}": {"post": {
        "summary": "A Freshdesk automation-rule webhook: poll this tenant now",
        "security": [{"webhookSecret": []}],
        "parameters": [{"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"202": _json({"type": "object"}, "poll requested"), **_ERRORS}}},
    "/health": {"get": {"summary": "The process is up", "security": [],
                        "responses": {"200": _json({"type": "object"}, "alive")}}},
    "/ready": {"get": {"summary": "Redis, Kafka and Milvus are reachable", "security": [],
                       "responses": {"200": _json({"type": "object"}, "ready"),
                                     "503": _json({"type": "object"}, "a dependency is down")}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {"200": _PLAIN}}},
    "/sidebar": {"get": {"summary": "The agent's sidebar page (its calls carry the credentials)", "security": [],
                         "parameters": [{"name": "ticket_id", "in": "query", "schema": {"type": "integer"}}],
                         "responses": {"200": {"description": "HTML page",
                                               "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    OPENAPI_PATH: {"get": {"summary": "This document", "security": [],
                           "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")}}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "freshdesk-copilot sidebar API", "version": "1"},
    "security": [{"domain": [], "apiKey": []}],
    "components": {
        "securitySchemes": {
            "domain": {"type": "apiKey", "in": "header", "name": "X-Freshdesk-Domain"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Freshdesk-Api-Key"},
            "webhookSecret": {"type": "apiKey", "in": "header", "name": "X-Copilot-Webhook-Secret"},
        },
        "schemas": SCHEMAS,
    },
    "paths": PATHS,
}


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(SPEC)
