"""TestNoRaceAsyncioRunCoroutineThreadsafe: a thread runs a coroutine on the loop and waits for its result."""
# expect: none
import asyncio
import threading

state = {"n": 0}


async def step():
    state["n"] += 1
    return state["n"]


def worker(loop, out):
    state["n"] += 1
    future = asyncio.run_coroutine_threadsafe(step(), loop)
    out.append(future.result())
    state["n"] += 1


async def main():
    loop = asyncio.get_running_loop()
    out = []
    t = threading.Thread(target=worker, args=(loop, out), name="worker")
    t.start()
    await asyncio.to_thread(t.join)
    print(out, state)


if __name__ == "__main__":
    asyncio.run(main())
