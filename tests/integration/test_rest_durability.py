#!/usr/bin/env python3
"""Durability of the REST API's writes: `kill -9` while meetings are being created, then restart.

Four client threads, each with its own API key (meetings:write, rooms:read; a key's rate bucket is its
own) on its own keep-alive connection, POST /v1/meetings for 1,000 meetings in one room, each with a
title unique to the request. Once ~400 have been answered 201, chorusd gets SIGKILL (no shutdown, no
flush) with requests in flight. chorusd is started again on the same data dir, and GET /v1/meetings
(every page) must hold:
  - every meeting that was answered 201, with the id and title the 201 carried (an acknowledged write
    survives: the store commits before the answer);
  - no id and no title twice (nothing is applied twice);
  - nothing the clients never sent; a request cut off by the kill may be there or not, once at most.
Then the restarted server still takes writes, and exits 0 on SIGTERM. The writes go through group
commit (several requests' inserts in one transaction and one fsync; /metrics counts them): the kill
lands while groups are open, and their requests are the ones cut off.
"""

import datetime
import http.client
import os
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorus_harness as h  # noqa: E402
import rest_client as rc  # noqa: E402

TEST = "test_rest_durability"
ROOM = "durable-room"
TOTAL = 1000
KILL_AFTER = 400
THREADS = 4
CREATE_TIMEOUT_S = 300.0  # a loaded machine makes each synchronous commit slow


class Creator:
    """The shared state of the client threads: the next index, and what each request came to."""

    def __init__(self, port, keys, run_tag):
        self.port = port
        self.keys = keys
        self.run_tag = run_tag
        self.lock = threading.Lock()
        self.next_index = 0
        self.acked = {}        # title -> id (answered 201)
        self.unknown = set()   # titles whose request was cut off (the kill): may or may not exist
        self.sent = set()      # every title a request was made for
        self.unexpected = []   # answers other than 201, and errors before the kill
        self.killed = threading.Event()
        self.start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)

    def title(self, index):
        return f"durability {self.run_tag} #{index:04d}"

    def take(self):
        with self.lock:
            if self.next_index >= TOTAL:
                return None
            self.next_index += 1
            return self.next_index - 1

    def meeting(self, index):
        start = self.start + datetime.timedelta(hours=index)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return {"room_id": ROOM, "title": self.title(index), "start": start.strftime(fmt),
                "end": (start + datetime.timedelta(minutes=30)).strftime(fmt)}

    def worker(self, key):
        client = rc.RestClient(self.port, key, timeout_s=30.0)
        try:
            for _ in range(TOTAL):
                index = self.take()
                if index is None:
                    return
                title = self.title(index)
                with self.lock:
                    self.sent.add(title)
                try:
                    reply = client.post("/v1/meetings", self.meeting(index))
                except (OSError, http.client.HTTPException) as e:
                    with self.lock:
                        self.unknown.add(title)
                        if not self.killed.is_set():
                            self.unexpected.append(f"{title}: {type(e).__name__}: {e} before the kill")
                    return  # the server is gone
                with self.lock:
                    if reply.status == 201 and reply.json().get("title") == title:
                        self.acked[title] = reply.json()["id"]
                    else:
                        self.unexpected.append(f"{title}: {reply.describe()[:200]}")
        finally:
            client.close()

    def acked_count(self):
        with self.lock:
            return len(self.acked)


def setup(server, admin):
    admin.expect(201, "POST", "/v1/rooms", {"id": ROOM, "name": "durability"})
    keys = []
    for i in range(THREADS):
        reply = admin.expect(201, "POST", "/v1/api-keys",
                             {"name": f"durability writer {i}", "scopes": ["meetings:write", "rooms:read"]})
        keys.append(reply.json()["token"])
    return keys


def create_and_kill(server, creator, checks):
    threads = [threading.Thread(target=creator.worker, args=(key,), daemon=True) for key in creator.keys]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    h.poll_until(lambda: creator.acked_count() >= KILL_AFTER or not any(t.is_alive() for t in threads),
                 CREATE_TIMEOUT_S, f"{KILL_AFTER} meetings answered 201", interval_s=0.005)
    # Group commit (issue 13): every 201 so far came after the commit of a write group, which counts
    # its requests before it answers them; so the count covers at least the answers already seen.
    acked_before_metrics = creator.acked_count()
    observer = rc.RestClient(creator.port, None)
    grouped = observer.metrics("chorus_rest_grouped_requests_total").get("chorus_rest_grouped_requests_total", 0)
    observer.close()
    checks.expect(grouped >= acked_before_metrics,
                  f"the 201s were answered after write groups' commits: {grouped:.0f} grouped requests "
                  f">= {acked_before_metrics} acknowledged")
    creator.killed.set()
    os.kill(server.proc.pid, signal.SIGKILL)
    acked_at_kill = creator.acked_count()
    server.proc.wait(timeout=10)
    elapsed = time.monotonic() - began
    for thread in threads:
        thread.join(timeout=40)
    checks.expect(not any(t.is_alive() for t in threads), "every client thread ended after the kill")
    checks.expect(server.proc.returncode == -signal.SIGKILL, f"chorusd died of SIGKILL ({server.proc.returncode})")
    print(f"    killed after {elapsed:.1f} s: {acked_at_kill} acknowledged when the signal went, "
          f"{len(creator.acked)} in all, {len(creator.unknown)} cut off, {len(creator.sent)} sent", flush=True)
    checks.expect(KILL_AFTER <= len(creator.acked) < TOTAL,
                  f"the kill came partway: {len(creator.acked)} of {TOTAL} acknowledged")
    checks.expect(not creator.unexpected, f"no answer but 201 and no error before the kill: {creator.unexpected[:5]}")


def verify(admin, creator, checks):
    items = admin.list_all(f"/v1/meetings?room_id={ROOM}")
    ids = [item["id"] for item in items]
    titles = [item["title"] for item in items]
    by_id = {item["id"]: item for item in items}
    print(f"    after the restart: {len(items)} meetings listed", flush=True)
    duplicate_ids = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    duplicate_titles = sorted({t for t in titles if titles.count(t) > 1}) if len(set(titles)) != len(titles) else []
    checks.expect(not duplicate_ids, f"no id listed twice {duplicate_ids[:5]}")
    checks.expect(not duplicate_titles, f"no title listed twice (no request applied twice) {duplicate_titles[:5]}")
    lost = [(title, mid) for title, mid in creator.acked.items() if by_id.get(mid, {}).get("title") != title]
    checks.expect(not lost, f"all {len(creator.acked)} acknowledged meetings are there with their ids and titles; "
                            f"lost: {len(lost)} {lost[:5]}")
    strangers = sorted(set(titles) - creator.sent)
    checks.expect(not strangers, f"nothing listed that was never sent {strangers[:5]}")
    extra = set(titles) - set(creator.acked)
    checks.expect(extra <= creator.unknown,
                  f"{len(extra)} unacknowledged meeting(s) present, all among the {len(creator.unknown)} cut off")
    # The last acknowledged writes are the ones a missing fsync would lose: read them one by one too.
    for title in sorted(creator.acked)[-10:]:
        reply = admin.get(f"/v1/meetings/{creator.acked[title]}")
        checks.expect(reply.status == 200 and reply.json().get("title") == title,
                      f"GET /v1/meetings/{creator.acked[title]}: 200 {title!r}")


def body(args):
    checks = h.Checks()
    first = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-killed").start()
    admin_token = rc.read_admin_token(first.data_dir)
    admin = rc.RestClient(first.http_port, admin_token)
    try:
        keys = setup(first, admin)
    finally:
        admin.close()
    creator = Creator(first.http_port, keys, uuid.uuid4().hex[:8])
    print(f"--- {THREADS} clients create {TOTAL} meetings; SIGKILL after {KILL_AFTER} acknowledged", flush=True)
    create_and_kill(first, creator, checks)

    print("--- restart on the same data dir", flush=True)
    second = h.Chorusd(args.chorusd, args.output_dir, name="chorusd-restarted", data_dir=first.data_dir).start()
    admin = rc.RestClient(second.http_port, rc.read_admin_token(second.data_dir))
    try:
        verify(admin, creator, checks)
        after = admin.post("/v1/meetings", creator.meeting(TOTAL))
        checks.expect(after.status == 201, f"the restarted server takes a new meeting ({after.describe()[:120]})")
        with_key = rc.RestClient(second.http_port, keys[0])
        listed = with_key.get(f"/v1/meetings?room_id={ROOM}&limit=1")
        with_key.close()
        checks.expect(listed.status == 200, f"an API key made before the kill still works ({listed.status})")
    except AssertionError as e:
        checks.expect(False, str(e))
    finally:
        admin.close()
        code = second.stop()
        checks.expect(code == 0, f"the restarted chorusd exits 0 on SIGTERM (got {code})")
    return checks.failures


def main():
    return h.run(TEST, body, description=__doc__)


if __name__ == "__main__":
    sys.exit(main())
