"""The API's browsable documentation: a server-rendered page listing every operation of the
OpenAPI schema (paths, parameters, responses), in the site's layout.

Why not Swagger UI: it is a JavaScript application normally loaded from a CDN, which our
content-security policy (self + nonce) blocks and which an offline installation cannot
reach. This page needs no script at all, follows the site's language, and always matches
the schema because it is generated from it on each request.
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.template import engines
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Kept in Python so that makemessages extracts its strings through LABELS (a {% translate %}
# inside a Python string would be invisible to it); the layout is the site's base.html.
TEMPLATE = """{% extends "base.html" %}
{% block title %}{{ labels.title }}{% endblock %}
{% block content %}
<h1>{{ info.title }}</h1>
<p>{{ info.description }}</p>
<p>{{ labels.version }} {{ info.version }} ·
  <a href="{{ schema_url }}">{{ labels.schema_yaml }}</a> ·
  <a href="{{ schema_url }}?format=json">{{ labels.schema_json }}</a> ·
  <a href="{{ api_root }}">{{ labels.browsable }}</a>{% if opendata_url %} ·
  <a href="{{ opendata_url }}">{{ labels.opendata }}</a>{% endif %}</p>
<p>{{ labels.rules }}</p>
<nav><ul>{% for op in operations %}<li><a href="#{{ op.anchor }}"><code>{{ op.method|upper }} {{ op.path }}</code></a>{% if op.summary %} — {{ op.summary }}{% endif %}</li>{% endfor %}</ul></nav>
{% for op in operations %}
<section id="{{ op.anchor }}">
  <h2><code>{{ op.method|upper }} {{ op.path }}</code></h2>
  {% if op.summary %}<p><strong>{{ op.summary }}</strong></p>{% endif %}
  {% if op.description %}<p>{{ op.description|linebreaksbr }}</p>{% endif %}
  {% if op.parameters %}
  <table>
    <thead><tr><th>{{ labels.parameter }}</th><th>{{ labels.location }}</th><th>{{ labels.type }}</th><th>{{ labels.required }}</th><th>{{ labels.description }}</th></tr></thead>
    <tbody>{% for p in op.parameters %}
      <tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ p.type }}{% if p.enum and not p.description %}: {{ p.enum|join:", " }}{% endif %}</td><td>{% if p.required %}{{ labels.yes }}{% else %}{{ labels.no }}{% endif %}</td><td>{{ p.description }}</td></tr>
    {% endfor %}</tbody>
  </table>
  {% endif %}
  <p>{{ labels.responses }}: {% for code, text in op.responses %}<code>{{ code }}</code> {{ text }}{% if not forloop.last %} · {% endif %}{% endfor %}</p>
</section>
{% endfor %}
{% endblock %}
"""

LABELS = {
    "title": _("API documentation"),
    "version": _("Version"),
    "schema_yaml": _("OpenAPI 3 schema (YAML)"),
    "schema_json": _("OpenAPI 3 schema (JSON)"),
    "browsable": _("Browsable API"),
    "opendata": _("Open data (OCDS)"),
    "rules": _(
        "Every list is paginated (page, page_size). A query parameter an endpoint does not declare is refused "
        "with 400 and code unknown_filter; a bad value of a declared one with 400 and code invalid. "
        'Errors read {"error": {"code": …, "message": …}}.'
    ),
    "parameter": _("Parameter"),
    "location": _("In"),
    "type": _("Type"),
    "required": _("Required"),
    "description": _("Description"),
    "yes": _("yes"),
    "no": _("no"),
    "responses": _("Responses"),
}


def _type_of(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type", "")
    if kind == "array":
        return f"array<{_type_of(schema.get('items', {}))}>"
    return f"{kind} ({schema['format']})" if schema.get("format") else str(kind)


_CHOICE = re.compile(r"\*\s*`([^`]*)`\s*-\s*([^*]*)")


def _plain_description(text: str) -> str:
    """drf-spectacular lists enum choices as markdown bullets ("* `TB` - Bidding Law"); show "TB: Bidding Law; …"."""
    choices = _CHOICE.findall(text or "")
    if choices and text.lstrip().startswith("*"):
        return "; ".join(f"{value}: {label.strip()}" for value, label in choices)
    return text or ""


def operations_from_schema(schema: dict) -> list[dict]:
    """The operations of an OpenAPI 3 document in path order, flattened for display."""
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            parameters = []
            for p in op.get("parameters", []):
                param_schema = p.get("schema", {})
                enum = param_schema.get("enum") or param_schema.get("items", {}).get("enum") or []
                parameters.append(
                    {
                        "name": p.get("name"),
                        "in": p.get("in"),
                        "required": p.get("required", False),
                        "type": _type_of(param_schema),
                        "enum": [str(e) for e in enum if e not in (None, "")],
                        "description": _plain_description(p.get("description", "")),
                    }
                )
            operations.append(
                {
                    "anchor": op.get("operationId") or f"{method}-{path}",
                    "method": method,
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": parameters,
                    "responses": [
                        (code, r.get("description", "")) for code, r in op.get("responses", {}).items()
                    ],
                }
            )
    return operations


def _reverse_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


class ApiDocsView(View):
    http_method_names = ["get", "head"]

    def get(self, request):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        template = engines["django"].from_string(TEMPLATE)
        context = {
            "info": schema.get("info", {}),
            "operations": operations_from_schema(schema),
            "schema_url": _reverse_or_none("api-schema") or "/api/schema/",
            "api_root": _reverse_or_none("api:api-root") or "/api/",
            "opendata_url": _reverse_or_none("portal:opendata_index"),
            "labels": LABELS,
        }
        return HttpResponse(template.render(context, request))
