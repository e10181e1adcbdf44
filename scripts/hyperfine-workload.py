"""The short whole-process workload hyperfine times under each PYTHONMALLOC
(scripts/hyperfine-runs): small objects, containers and cycles made and
dropped, the mix a start-up-heavy script allocates. Runs on Python 2.7 and
3.x; exits 1 if the work did not happen as counted."""
import gc


class Node(object):
    __slots__ = ("peer", "payload")


def main():
    gc.disable()  # collected below, once per batch: the same work on every version
    kept = collected = 0
    for _ in range(20):
        rows = [{"id": i, "name": "row%d" % i, "tags": (i, str(i))} for i in range(2000)]
        index = dict((r["name"], r) for r in rows)
        nodes = [Node() for _ in range(2000)]
        for a, b in zip(nodes, nodes[1:] + nodes[:1]):
            a.peer, a.payload = b, [a]  # a cycle through every node
        kept += len(index) + len(nodes)
        del rows, index, nodes, a, b
        collected += gc.collect()
    if kept != 80000 or collected < 80000:
        raise SystemExit("workload: kept %d (want 80000), collected %d (want >= 80000)"
                         % (kept, collected))


main()
