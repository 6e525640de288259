"""TestRaceAsyncioRunInExecutorNotAwaited: the loop writes before awaiting the executor's future.

A pipe (invisible to the detector) makes the loop's write come first in real time."""
# expect python: lost-update dict state['n'] @ pool,loop
# expect strict: data-race dict state['n'] @ pool,loop
import asyncio
import os

state = {"n": 0}
r, w = os.pipe()


def blocking():
    os.read(r, 1)
    state["n"] += 1  # [pool]


async def main():
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, blocking)
    state["n"] += 1  # [loop]
    os.write(w, b"x")
    await future
    print(state)


if __name__ == "__main__":
    asyncio.run(main())
