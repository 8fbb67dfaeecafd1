import pytest

from service.tests.imap_server import ImapServer


@pytest.fixture(scope="session")
def imap_server_process(tmp_path_factory):
    """One pymap per test process (each xdist worker has its own, on its own port)."""
    server = ImapServer(tmp_path_factory.mktemp("imap"))
    yield server
    server.stop()


@pytest.fixture
def imap_server(imap_server_process, settings):
    """The test IMAP server, empty, with its certificate's authority trusted by the desk."""
    imap_server_process.reset()
    settings.SERVICE_IMAP_CA_FILE = str(imap_server_process.cert)
    return imap_server_process
