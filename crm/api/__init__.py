"""The REST API (Django REST framework): accounts, contacts and activities.

Every queryset starts from the visibility policy (`visible_to(user)`); every write goes
through the same services as the pages. See docs/api.md.
"""
