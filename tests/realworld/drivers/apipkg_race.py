"""apipkg < 2.0.1: ApiModule.__makeattr resolves lazy attributes with no lock."""
import threading

import apipkg

api = apipkg.ApiModule(
    "lazyapi",
    {"__onfirstaccess__": "gc:collect", "join": "os.path:join", "hls": "colorsys:rgb_to_hls"},
)
barrier = threading.Barrier(2)


def use_join() -> None:
    barrier.wait()
    assert api.join("a", "b") == "a/b"


def use_hls() -> None:
    barrier.wait()
    assert api.hls(0.0, 0.0, 0.0) == (0.0, 0.0, 0.0)


threads = [threading.Thread(target=use_join), threading.Thread(target=use_hls)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
