"""TestNoRaceAsyncioCallSoonThreadsafe: a worker hands its result to the event loop's thread."""
# expect: none
import asyncio
import threading

data = {"n": 0}


async def main():
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    seen = []

    def deliver():
        seen.append(data["n"])
        data["n"] += 1
        done.set()

    def worker():
        data["n"] += 41
        loop.call_soon_threadsafe(deliver)

    t = threading.Thread(target=worker, name="worker")
    t.start()
    await done.wait()
    print(seen, data)
    await asyncio.to_thread(t.join)


if __name__ == "__main__":
    asyncio.run(main())
