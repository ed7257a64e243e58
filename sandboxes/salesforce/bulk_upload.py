"""A Bulk API 2.0 job's CSV upload, streamed from the request into the job's row without being held in memory.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/upload_job_data.htm
"A request can provide CSV data that does not in total exceed 150 MB of base64 encoded content. When job data is
uploaded, it is converted to base64 ... upload data that does not exceed 100 MB." The limit is on the base64 size,
so the raw CSV may be at most three quarters of 150 MB.

The body arrives in pieces (`Request.stream`), possibly chunked and of unknown length: the pieces go to a spooled
temporary file (on disk past 1 MB), and from there into a zeroblob of the final size through sqlite's incremental
blob I/O, so neither step holds the whole upload.
"""
import io
import tempfile

from .errors import ApiError

MAX_BASE64_BYTES = 150 * 1024 * 1024
PIECE = 1024 * 1024


def base64_size(raw_bytes: int) -> int:
    return (raw_bytes + 2) // 3 * 4


def too_large() -> ApiError:
    return ApiError("INVALIDJOB", "The upload exceeds the maximum of 150 MB of base64 encoded content per job; split "
                    "the data into several jobs", status=400)


def store_upload(store, job_rowid: int, pieces, declared_length: int | None) -> int:
    """Write the body into `_bulk_job.upload` of the row; returns its size. Raises before reading past the limit."""
    if declared_length is not None and base64_size(declared_length) > MAX_BASE64_BYTES:
        raise too_large()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=PIECE, dir=store.data_dir) as spool:
        for piece in pieces:
            size += len(piece)
            if base64_size(size) > MAX_BASE64_BYTES:
                raise too_large()
            spool.write(piece)
        if size == 0:
            return 0
        spool.seek(0)
        with store.transaction() as conn:
            conn.execute("UPDATE _bulk_job SET upload = zeroblob(?) WHERE rowid = ?", (size, job_rowid))
            with conn.blobopen("_bulk_job", "upload", job_rowid) as blob:
                while True:
                    piece = spool.read(PIECE)
                    if not piece:
                        break
                    blob.write(piece)
    return size


class _BlobFile(io.RawIOBase):
    def __init__(self, blob):
        self.blob = blob

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.blob.read(len(buffer))
        buffer[:len(piece)] = piece
        return len(piece)

    def close(self):
        if not self.closed:
            self.blob.close()
        super().close()


def open_upload(conn, job_rowid: int, encoding: str = "utf-8-sig") -> io.TextIOWrapper:
    """The stored upload as text, read from the database piece by piece (newline="" as the csv module wants)."""
    blob = conn.blobopen("_bulk_job", "upload", job_rowid, readonly=True)
    return io.TextIOWrapper(io.BufferedReader(_BlobFile(blob), PIECE), encoding=encoding, newline="")
