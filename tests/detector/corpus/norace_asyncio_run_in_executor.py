"""TestNoRaceAsyncioRunInExecutor: blocking work on a thread pool, awaited by the loop."""
# expect: none
import asyncio
import concurrent.futures

state = {"n": 0}


def blocking():
    state["n"] += 1
    return state["n"]


async def main():
    loop = asyncio.get_running_loop()
    state["n"] += 1
    first = await loop.run_in_executor(None, blocking)
    state["n"] += 1
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        second = await loop.run_in_executor(pool, blocking)
    state["n"] += 1
    third = await asyncio.to_thread(blocking)
    state["n"] += 1
    print(first, second, third, state)


if __name__ == "__main__":
    asyncio.run(main())
