import pytest

from webhooks.tests import receiver as receiver_module


@pytest.fixture
def receiver():
    """A live HTTP receiver on 127.0.0.1 (see receiver.py)."""
    server = receiver_module.start()
    yield server
    receiver_module.stop(server)


@pytest.fixture(autouse=True)
def short_timeouts(settings):
    # A "dead" endpoint in tests answers after the read timeout; keep that under a second.
    settings.WEBHOOKS_CONNECT_TIMEOUT = 1.0
    settings.WEBHOOKS_READ_TIMEOUT = 0.5
