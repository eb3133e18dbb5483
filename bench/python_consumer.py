#!/usr/bin/env python3
"""The Kafka scorer a user would write in Python instead of Petal, measured the way `./petal inference bench` measures
Petal's service, so bench/pipeline.sh can put the two side by side on one broker.

The scorer (a process of its own, as a deployed consumer would be): confluent-kafka, batches of up to --max-batch
records (waiting at most --max-wait-ms), PIL decode, RGB, bilinear resize to --image-size, ImageNet normalisation,
torchvision's network under torch.jit.freeze in channels-last, one JSON prediction per input (top 5), produce,
flush, then commit the batch's offsets.

The driver (this process): fresh topics petal.pybench.*, a warm-up of 2 batches (--warmup-count), then a backlog of --count images
sent as fast as possible; images/s from the first send to the last prediction read back; then --light-count images
at --rate per second, latency send to prediction read back. Prints one JSON line.

    /usr/bin/python3 bench/python_consumer.py --bootstrap HOST:PORT --images DIR [--count 2000]
"""
import argparse
import io
import json
import math
import multiprocessing
import os
import sys
import time

IMAGES, PREDICTIONS, GROUP = "petal.pybench.images", "petal.pybench.predictions", "petal.pybench"
PARTITIONS = 6


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--images", required=True, help="folder of .jpg/.png images, searched recursively")
    p.add_argument("--count", type=int, default=256)
    p.add_argument("--warmup-count", type=int, default=None, help="images scored before the backlog (default: 2 batches)")
    p.add_argument("--light-count", type=int, default=100)
    p.add_argument("--rate", type=float, default=10)
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--max-wait-ms", type=int, default=20)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    return p.parse_args()


def score_forever(a, labels, ready):
    """The user's scorer: consume, decode, score, produce, commit."""
    import numpy as np
    import torch
    import torchvision
    from confluent_kafka import Consumer, Producer
    from PIL import Image

    torch.set_num_threads(a.threads)
    model = getattr(torchvision.models, a.arch)(num_classes=len(labels)).eval().to(memory_format=torch.channels_last)
    example = torch.zeros(a.max_batch, 3, a.image_size, a.image_size).to(memory_format=torch.channels_last)
    with torch.no_grad():
        model = torch.jit.freeze(torch.jit.trace(model, example))
        for _ in range(2):
            model(example)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    consumer = Consumer({"bootstrap.servers": a.bootstrap, "group.id": GROUP, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    producer = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5})
    consumer.subscribe([IMAGES])
    ready.set()
    while True:
        records = [r for r in consumer.consume(num_messages=a.max_batch, timeout=a.max_wait_ms / 1000) if not r.error()]
        if not records:
            continue
        pixels = np.empty((len(records), a.image_size, a.image_size, 3), dtype=np.float32)
        for i, r in enumerate(records):
            image = Image.open(io.BytesIO(r.value())).convert("RGB").resize((a.image_size, a.image_size), Image.BILINEAR)
            pixels[i] = (np.asarray(image, dtype=np.float32) / 255 - mean) / std
        batch = torch.from_numpy(pixels).permute(0, 3, 1, 2)  # NHWC memory seen as NCHW: channels-last
        with torch.no_grad():
            top = torch.softmax(model(batch), dim=1).topk(min(5, len(labels)), dim=1)
        for r, scores, indices in zip(records, top.values.tolist(), top.indices.tolist()):
            producer.produce(PREDICTIONS, key=r.key(), value=json.dumps(
                {"label": labels[indices[0]], "top": [{"label": labels[k], "score": s} for k, s in zip(indices, scores)]}))
        producer.flush()
        consumer.commit(asynchronous=False)


def image_files(folder, limit):
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names if n.lower().endswith((".jpg", ".jpeg", ".png"))]
    files = sorted(found)[:limit]
    if not files:
        sys.exit(f"python_consumer: no .jpg or .png images under {folder}")
    return [open(f, "rb").read() for f in files]


def fresh_topics(bootstrap):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    old = [t for t in (IMAGES, PREDICTIONS) if t in admin.list_topics(timeout=30).topics]
    for future in admin.delete_topics(old).values() if old else []:
        future.result()
    deadline = time.time() + 30
    while any(t in admin.list_topics(timeout=30).topics for t in old) and time.time() < deadline:
        time.sleep(0.1)
    for future in admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (IMAGES, PREDICTIONS)]).values():
        future.result()


def send_and_await(producer, reader, files, prefix, n, per_second):
    """Sends n images (at per_second, or as fast as possible when 0); returns each one's send-to-prediction ms."""
    sent_at, latencies, sent, begin = {}, [], 0, time.perf_counter()
    deadline = time.time() + 600
    while len(latencies) < n:
        if time.time() > deadline:
            sys.exit(f"python_consumer: only {len(latencies)} of {n} predictions within 10 minutes")
        while sent < n and (per_second <= 0 or time.perf_counter() - begin >= sent / per_second):
            key = f"{prefix}{sent}"
            sent_at[key] = time.perf_counter()
            producer.produce(IMAGES, key=key.encode(), value=files[sent % len(files)])
            sent += 1
            producer.poll(0)
        producer.flush()
        for r in reader.consume(num_messages=500, timeout=0.1 if per_second <= 0 else 0.005):
            at = sent_at.pop(r.key().decode(), None) if not r.error() else None
            if at is not None:
                latencies.append((time.perf_counter() - at) * 1000)
    return sorted(latencies)


def main():
    a = arguments()
    from confluent_kafka import Consumer, Producer, TopicPartition
    labels = sorted(d for d in os.listdir(a.images) if os.path.isdir(os.path.join(a.images, d))) or ["a", "b"]
    files = image_files(a.images, max(a.count, a.light_count))
    fresh_topics(a.bootstrap)
    ready = multiprocessing.Event()
    scorer = multiprocessing.Process(target=score_forever, args=(a, labels, ready), daemon=True)
    scorer.start()
    ready.wait(300)
    producer = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 5})
    reader = Consumer({"bootstrap.servers": a.bootstrap, "group.id": GROUP + ".reader", "enable.auto.commit": False})
    reader.assign([TopicPartition(PREDICTIONS, p, 0) for p in range(PARTITIONS)])
    try:
        send_and_await(producer, reader, files, "warm-", 2 * a.max_batch if a.warmup_count is None else a.warmup_count, 0)
        start = time.perf_counter()
        send_and_await(producer, reader, files, "tput-", a.count, 0)
        rate = a.count / (time.perf_counter() - start)
        light = send_and_await(producer, reader, files, "light-", a.light_count, a.rate) if a.light_count else []
    finally:
        scorer.terminate()
    out = {"side": "python", "arch": a.arch, "imageSize": a.image_size, "batch": a.max_batch, "threads": a.threads,
           "kafkaImagesPerSec": round(rate, 2)}
    if light:
        at = lambda q: light[min(len(light) - 1, math.ceil(q * len(light)) - 1)]
        out["lightLoad"] = {"ratePerSec": a.rate, "count": a.light_count, "p50Ms": round(at(0.5), 2),
                            "p99Ms": round(at(0.99), 2), "maxMs": round(light[-1], 2)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
