"""TestRaceCheckThenActEarlyReturn: ``if self._client is not None: return self._client``, then a write.

The rest of the function is the check's other branch. Whichever thread checks second
races with the first one's write, whether or not it saw None.
"""
# expect python: check-then-act Factory._client @ chk,make
# allow python: lost-update Factory._client @ make,make
# expect strict: data-race Factory._client @ chk,make
# allow strict: data-race Factory._client @ make,make
# allow strict: data-race Factory._client @ ret,make
# allow strict: data-race Factory._client @ ret2,make
import threading


class Factory:
    def __init__(self):
        self._client = None

    def client(self):
        if self._client is not None:  # [chk]
            return self._client  # [ret]
        self._client = object()  # [make]
        return self._client  # [ret2]


def main():
    f = Factory()
    threads = [threading.Thread(target=f.client, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f._client is not None)


if __name__ == "__main__":
    main()
