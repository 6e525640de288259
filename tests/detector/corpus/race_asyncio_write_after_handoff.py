"""TestRaceAsyncioWriteAfterHandoff: the worker writes after handing the callback over.

A pipe (invisible to the detector) makes the loop's write come first in real time."""
# expect python: lost-update dict data['n'] @ late,loop
# expect strict: data-race dict data['n'] @ late,loop
import asyncio
import os
import threading

data = {"n": 0}
r, w = os.pipe()


async def main():
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def deliver():
        data["n"] += 1  # [loop]
        os.write(w, b"x")
        done.set()

    def worker():
        loop.call_soon_threadsafe(deliver)
        os.read(r, 1)
        data["n"] += 1  # [late]

    t = threading.Thread(target=worker, name="worker")
    t.start()
    await done.wait()
    await asyncio.to_thread(t.join)
    print(data)


if __name__ == "__main__":
    asyncio.run(main())
