"""TestRaceStrictCopyMethods: ``d.copy()``, ``list(d.items())``, ``s.copy()``, ``tuple(lst)``,
without the lock the other thread changes them under.

Python mode: each copies an exact dict, set or list in one step on both builds (str keys:
no Python ``__eq__`` runs while the new dict is built), so it sees the change whole or not
at all: snapshots, no race.  Strict mode: Go's verdict, each copy races the write.
"""
# expect python: none
# expect strict: data-race dict config @ dcopy,dset
# expect strict: data-race dict env @ items,eset
# expect strict: data-race set tags @ scopy,sadd
# expect strict: data-race list log @ tup,app
import threading

lock = threading.Lock()


def reader(config, env, tags, log, out):
    out.append(config.copy())  # [dcopy]
    out.append(list(env.items()))  # [items]
    out.append(tags.copy())  # [scopy]
    out.append(tuple(log))  # [tup]


def writer(config, env, tags, log):
    with lock:
        config["retries"] = 3  # [dset]
        env["HOME"] = "/root"  # [eset]
        tags.add("b")  # [sadd]
        log.append("changed")  # [app]


def main():
    config = {"timeout": 30}
    env = {"PATH": "/bin"}
    tags = {"a"}
    log = ["start"]
    out = []
    threads = [threading.Thread(target=reader, args=(config, env, tags, log, out), name="A"),
               threading.Thread(target=writer, args=(config, env, tags, log), name="B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(config), sorted(env), sorted(tags), log)


if __name__ == "__main__":
    main()
