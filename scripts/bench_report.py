"""The comparison table shared by compare_producers.py and compare_consumers.py.

Each row is one client's JSON result line (msgs_per_s, mb_per_s, cpu_us_per_msg, peak_rss_mb)
plus "client"; the best run of each client is printed against confluent-kafka (librdkafka).
"""


def best_runs(rows):
    """The fastest row per client."""
    best = {}
    for r in rows:
        if r["client"] not in best or r["msgs_per_s"] > best[r["client"]]["msgs_per_s"]:
            best[r["client"]] = r
    return best


def print_table(title, clients, rows):
    """Prints `title`, then one line per client (best run), relative to confluent-kafka."""
    best = best_runs(rows)
    ref = best["confluent-kafka"]
    print(title)
    print(f"{'client':<16}{'msgs/s':>12}{'MB/s':>9}{'CPU us/msg':>12}{'peak RSS MB':>13}{'vs librdkafka':>15}")
    for c in clients:
        r = best[c]
        print(f"{c:<16}{r['msgs_per_s']:>12,}{r['mb_per_s']:>9}{r['cpu_us_per_msg']:>12}{r['peak_rss_mb']:>13}{r['msgs_per_s'] / ref['msgs_per_s']:>14.2f}x")
