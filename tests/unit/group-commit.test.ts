// The group-commit scheduler (server/data/group-commit.ts) on its own: when batches start, what
// they hold, and whose failure reaches whom. `run` here is the test's record of each batch; the
// database side (one statement per batch, fallback item by item) is in
// tests/integration/group-commit.test.ts.
import { GroupCommit } from "../../server/data/group-commit.js";

interface Item {
  key: string;
  value: string;
}

/** A controllable batch runner: every batch waits until the test settles it. */
function harness(opts: { maxBatch: number; maxInFlight: number }) {
  const batches: Array<{ items: Item[]; settle: (r: Array<PromiseSettledResult<string>> | Error) => void }> = [];
  const gc = new GroupCommit<Item, string>(
    (items) =>
      new Promise((resolve, reject) => {
        batches.push({ items, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      }),
    (i) => i.key,
    opts,
  );
  const ok = (b: { items: Item[] }) => b.items.map((i) => ({ status: "fulfilled", value: `done ${i.value}` }) as const);
  const submit = (key: string, value = key) => gc.submit({ key, value });
  return { gc, batches, ok, submit };
}

const tick = () => new Promise((r) => setImmediate(r));
const values = (b: { items: Item[] }) => b.items.map((i) => i.value);

describe("GroupCommit", () => {
  test("an idle scheduler runs an item at once, alone", async () => {
    const { batches, ok, submit } = harness({ maxBatch: 10, maxInFlight: 1 });
    const p = submit("a");
    expect(batches.map(values)).toEqual([["a"]]);
    batches[0].settle(ok(batches[0]));
    await expect(p).resolves.toBe("done a");
  });

  test("items arriving while every slot is busy go out together when one frees, in arrival order", async () => {
    const { batches, ok, submit } = harness({ maxBatch: 10, maxInFlight: 2 });
    const first = [submit("a"), submit("b")];
    expect(batches.map(values)).toEqual([["a"], ["b"]]); // two slots: both at once
    const waiting = ["c", "d", "e"].map((k) => submit(k));
    expect(batches).toHaveLength(2);
    batches[1].settle(ok(batches[1]));
    await tick();
    expect(batches.map(values)).toEqual([["a"], ["b"], ["c", "d", "e"]]);
    batches[0].settle(ok(batches[0]));
    batches[2].settle(ok(batches[2]));
    await expect(Promise.all([...first, ...waiting])).resolves.toEqual(["done a", "done b", "done c", "done d", "done e"]);
  });

  test("no more than maxBatch items in a batch", async () => {
    const { batches, ok, submit } = harness({ maxBatch: 3, maxInFlight: 1 });
    const all = [submit("x0"), ...Array.from({ length: 7 }, (_, i) => submit(`k${i}`))];
    for (let i = 0; i < 4; i++) {
      batches[i].settle(ok(batches[i]));
      await tick();
    }
    expect(batches.map(values)).toEqual([["x0"], ["k0", "k1", "k2"], ["k3", "k4", "k5"], ["k6"]]);
    await expect(Promise.all(all)).resolves.toHaveLength(8);
  });

  test("items with one key never share a batch nor run at once, and keep their order", async () => {
    const { batches, ok, submit } = harness({ maxBatch: 10, maxInFlight: 4 });
    const all = [submit("s", "s1"), submit("s", "s2"), submit("t", "t1"), submit("s", "s3"), submit("u", "u1")];
    // s1 runs; s2 waits for it (its key is busy) without holding back t1 and u1.
    expect(batches.map(values)).toEqual([["s1"], ["t1"], ["u1"]]);
    batches[0].settle(ok(batches[0]));
    await tick();
    expect(batches.map(values)).toEqual([["s1"], ["t1"], ["u1"], ["s2"]]);
    batches[3].settle(ok(batches[3]));
    await tick();
    expect(batches.map(values)[4]).toEqual(["s3"]);
    for (const b of batches.slice(1)) b.settle(ok(b));
    await expect(Promise.all(all)).resolves.toEqual(["done s1", "done s2", "done t1", "done s3", "done u1"]);
  });

  test("an item's own failure is its own", async () => {
    const { batches, submit } = harness({ maxBatch: 10, maxInFlight: 1 });
    const blocker = submit("x");
    const [a, b, c] = ["a", "b", "c"].map((k) => submit(k));
    batches[0].settle([{ status: "fulfilled", value: "x ok" }]);
    await tick();
    batches[1].settle([
      { status: "fulfilled", value: "a ok" },
      { status: "rejected", reason: new Error("b refused") },
      { status: "fulfilled", value: "c ok" },
    ]);
    await expect(blocker).resolves.toBe("x ok");
    await expect(a).resolves.toBe("a ok");
    await expect(b).rejects.toThrow("b refused");
    await expect(c).resolves.toBe("c ok");
  });

  test("a batch that fails as a whole fails its items and every item waiting, and the next arrival starts afresh", async () => {
    const { batches, ok, submit } = harness({ maxBatch: 10, maxInFlight: 1 });
    const running = submit("a");
    const waiting = [submit("b"), submit("a", "a2")];
    const outage = new Error("database unreachable");
    batches[0].settle(outage);
    await expect(running).rejects.toBe(outage);
    for (const w of waiting) await expect(w).rejects.toBe(outage);
    expect(batches).toHaveLength(1); // the waiting items were not run after the failure
    const later = submit("c");
    expect(batches.map(values)[1]).toEqual(["c"]);
    batches[1].settle(ok(batches[1]));
    await expect(later).resolves.toBe("done c");
  });

  test("a runner that throws synchronously fails its batch, not the scheduler", async () => {
    let calls = 0;
    const gc = new GroupCommit<string, string>(
      async (items) => {
        calls++;
        if (calls === 1) throw new Error("boom");
        return items.map((i) => ({ status: "fulfilled", value: i }) as const);
      },
      (i) => i,
      { maxBatch: 5, maxInFlight: 1 },
    );
    await expect(gc.submit("a")).rejects.toThrow("boom");
    await expect(gc.submit("b")).resolves.toBe("b");
  });

  test("refuses a configuration that could never run anything", () => {
    expect(() => new GroupCommit(async () => [], String, { maxBatch: 0, maxInFlight: 1 })).toThrow(/at least 1/);
    expect(() => new GroupCommit(async () => [], String, { maxBatch: 1, maxInFlight: 0 })).toThrow(/at least 1/);
  });
});
