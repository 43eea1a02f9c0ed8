"""Reading a message from a stream without holding more than the size limit in memory."""

CHUNK = 1024 * 1024


def read_capped(stream, *, limit):
    """(the first ``limit + 1`` bytes at most, the stream's whole size). What lies past the
    limit is read and counted, never kept: the message is refused, its size is the reason."""
    data = bytearray()
    size = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if len(data) <= limit:
            data += chunk[: limit + 1 - len(data)]
    return bytes(data), size
