"""The API base (Django REST framework): authentication, tokens, throttling, pagination, the
schema and docs views, the shared serializer and view-set classes, and the route registry
(routes.py) that each module's `api.py` fills with its own view sets.

Every queryset starts from the visibility policy (`visible_to(user)`); every write goes
through the same services as the pages. See docs/api.md.
"""
