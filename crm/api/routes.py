"""The API's route registry: each module registers its own view sets; `crm/api/urls.py` builds
the one router from them.

A module's `api.py` (or `api/__init__.py`) registers its routes when it is imported:

    from crm.api.routes import register

    register("accounts", AccountViewSet, basename="account")

`autodiscover()` imports every installed app's `api` module (Django's `autodiscover_modules`,
as the admin does for `admin.py`), so the core never names a module. URLs and basenames are the
contract with API clients: `api:<basename>-list` and `api:<basename>-detail`.
"""

from dataclasses import dataclass

from django.utils.module_loading import autodiscover_modules
from rest_framework.routers import SimpleRouter


@dataclass(frozen=True)
class Route:
    prefix: str
    viewset: type
    basename: str


ROUTES: dict[str, Route] = {}


def register(prefix: str, viewset: type, *, basename: str) -> Route:
    """Adds `/api/<prefix>/` served by `viewset`. Registering the same route twice is harmless;
    a prefix or basename already taken by another view set is a programming error."""
    route = Route(prefix=prefix, viewset=viewset, basename=basename)
    if ROUTES.get(prefix, route) != route:
        raise ValueError(f"API prefix {prefix!r} is already registered by {ROUTES[prefix].viewset.__name__}")
    if any(other.basename == basename and other.prefix != prefix for other in ROUTES.values()):
        raise ValueError(f"API basename {basename!r} is already registered")
    ROUTES[prefix] = route
    return route


def autodiscover() -> None:
    """Imports each installed app's `api` module, so its routes are registered."""
    autodiscover_modules("api")


def build_router() -> SimpleRouter:
    router = SimpleRouter()
    for route in ROUTES.values():
        router.register(route.prefix, route.viewset, basename=route.basename)
    return router
