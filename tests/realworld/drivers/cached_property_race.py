"""cached-property 1.1.0: two TTL properties of one object share a lazily created _cache dict."""
import threading
import time

from cached_property import threaded_cached_property_with_ttl


class Client:
    @threaded_cached_property_with_ttl(ttl=60)
    def token(self) -> str:
        return "t"

    @threaded_cached_property_with_ttl(ttl=60)
    def config(self) -> str:
        return "c"


client = Client()


def read_token() -> None:
    assert client.token == "t"


def read_config() -> None:
    # Each property has its own lock, so nothing orders this thread after the other one. It starts
    # later, so the race does not show on this run (one _cache is made): it must still be reported.
    time.sleep(0.2)
    assert client.config == "c"


threads = [threading.Thread(target=read_token), threading.Thread(target=read_config)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
