"""TestRaceIterSet: iterating a set while another thread adds to it."""
# expect python: iteration set tags @ for,add
# expect strict: data-race set tags @ for,add
import threading


def render(tags, out):
    for tag in tags:  # [for]
        out.append(tag.upper())


def tag_more(tags):
    tags.add("urgent")  # [add]


def main():
    tags = {"new", "bug"}
    out = []
    a = threading.Thread(target=render, args=(tags, out), name="A")
    b = threading.Thread(target=tag_more, args=(tags,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(tags))


if __name__ == "__main__":
    main()
