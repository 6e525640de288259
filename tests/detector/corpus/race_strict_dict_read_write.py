"""TestRaceStrictDictReadWrite: ``cfg['level']`` read while another thread replaces its value."""
# expect python: none
# expect strict: data-race dict cfg['level'] @ rd,wr
import threading


def read_level(cfg, out):
    out.append(cfg["level"])  # [rd]


def set_level(cfg):
    cfg["level"] = "debug"  # [wr]


def main():
    cfg = {"level": "info"}
    out = []
    a = threading.Thread(target=read_level, args=(cfg, out), name="A")
    b = threading.Thread(target=set_level, args=(cfg,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(cfg)


if __name__ == "__main__":
    main()
